"""`ModelConfig`: what a CharRNN is (cell type and sizes), as plain data.

Kept apart from model.py, which needs torch, so that reading a checkpoint's config and sampling
on the CPU (numpy) start without importing torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

MODEL_TYPES = ("lstm", "gru", "rnn")


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
