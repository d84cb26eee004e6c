"""`ModelConfig` and `CharRNN`: Embedding -> LSTM / GRU / RNN stack -> dropout -> Linear.

The model is explicit about recurrent state: `forward(ids, state) -> (logits, state)`, where the
state is always a tuple of (num_layers, B, H) tensors: (h, c) for an LSTM, (h,) for a GRU or a
vanilla RNN. Training carries it across windows (detached); sampling carries it across steps.
Parameter names are nn.LSTM's own (`rnn.weight_hh_l0`, ...), which `activations.py` reads.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from charrnn.modelconfig import MODEL_TYPES, ModelConfig  # noqa: F401 (re-exported)

State = tuple[torch.Tensor, ...]


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
