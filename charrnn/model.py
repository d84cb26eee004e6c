"""`ModelConfig` and `CharRNN`: Embedding -> LSTM / GRU / RNN stack -> dropout -> Linear.

The model is explicit about recurrent state: `forward(ids, state) -> (logits, state)`, where the
state is always a tuple of (num_layers, B, H) tensors: (h, c) for an LSTM, (h,) for a GRU or a
vanilla RNN. Training carries it across windows (detached); sampling carries it across steps.
Parameter names are nn.LSTM's own (`rnn.weight_hh_l0`, ...), which `activations.py` reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn

MODEL_TYPES = ("lstm", "gru", "rnn")
State = tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    model: str = "lstm"
    embed_size: int = 64
    hidden_size: int = 512
    num_layers: int = 1
    dropout: float = 0.0  # between recurrent layers and before the output layer

    def __post_init__(self):
        if self.model not in MODEL_TYPES:
            raise ValueError(f"--model must be one of {', '.join(MODEL_TYPES)}, not {self.model!r}")
        for name in ("vocab_size", "embed_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be a positive integer")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("--dropout must be in [0, 1)")

    @property
    def gates(self) -> int:
        """Gate blocks stacked in each weight matrix: 4 (i, f, g, o), 3 (r, z, n) or 1."""
        return {"lstm": 4, "gru": 3, "rnn": 1}[self.model]

    @property
    def state_names(self) -> tuple[str, ...]:
        return ("h", "c") if self.model == "lstm" else ("h",)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}")
        return cls(**d)

    def num_params(self) -> int:
        E, H, V, G = self.embed_size, self.hidden_size, self.vocab_size, self.gates
        rnn = sum(G * H * ((E if layer == 0 else H) + H + 2) for layer in range(self.num_layers))
        return V * E + rnn + H * V + V


class CharRNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        rnn_class = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[config.model]
        self.embed = nn.Embedding(config.vocab_size, config.embed_size)
        self.rnn = rnn_class(
            config.embed_size,
            config.hidden_size,
            config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def init_state(self, batch_size: int, device=None) -> State:
        c = self.config
        shape = (c.num_layers, batch_size, c.hidden_size)
        device = device or self.head.weight.device
        return tuple(torch.zeros(shape, device=device) for _ in c.state_names)

    def forward(self, ids: torch.Tensor, state: State | None = None):
        x = self.embed(ids)  # (B, T, E)
        if state is not None and self.config.model != "lstm":
            state = state[0]
        out, state = self.rnn(x, state)  # out: (B, T, H)
        logits = self.head(self.drop(out))  # (B, T, V)
        return logits, (state if isinstance(state, tuple) else (state,))


def detach_state(state: State | None) -> State | None:
    """Keep the values, drop the graph: backprop stops at the window boundary (truncated BPTT)
    instead of reaching back through every window since the epoch began."""
    return None if state is None else tuple(s.detach() for s in state)
