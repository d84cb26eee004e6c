"""`ModelConfig`: what a CharRNN is (cell kind and sizes), as plain data, with the arithmetic that
follows from it (parameter count, FLOPs per character, weight names and shapes).

Kept apart from network.py, which needs torch, so that `--help`, reading a checkpoint's config and
sampling on the CPU (numpy) start without importing torch. The cell kinds are in cells.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from charrnn.errors import ConfigError
from charrnn.model import cells
from charrnn.options import check_ranges, flag, option


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int | None = option(
        None, "Symbols: set by the corpus (or checkpoint).", 1, cli=False
    )
    cell: str = option(
        "lstm",
        "Recurrent cell: " + "; ".join(f"{k}: {c.about}" for k, c in cells.CELLS.items()) + ".",
        choices=tuple(cells.CELLS),
        flag="--model",
    )
    embed_size: int = option(64, "Character embedding size.", 1)
    hidden_size: int = option(
        512, "Units per layer. With --time and no size options, sized to the budget.", 1
    )
    num_layers: int = option(1, "Stacked recurrent layers.", 1)
    dropout: float = option(
        0.0, "Dropout between layers and before the output layer.", 0, 1, high_open=True
    )

    def __post_init__(self):
        for name in ("vocab_size", "embed_size", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ConfigError(f"{flag(name)} must be a whole number, not {value!r}.")
        check_ranges(self)

    @property
    def cell_spec(self) -> cells.CellSpec:
        return cells.CELLS[self.cell]

    @property
    def blocks(self) -> int:
        """Blocks stacked in each weight matrix: 4 (LSTM i, f, g, o), 3 (GRU r, z, n), 1 (RNN)."""
        return self.cell_spec.blocks

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.cell_spec.state_names

    def to_dict(self) -> dict:
        """As checkpoints, exports and metrics.jsonl keep it: the cell kind under "model", the
        name users know from --model."""
        d = asdict(self)
        return {"vocab_size": d.pop("vocab_size"), "model": d.pop("cell"), **d}

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        d = dict(d)
        if "model" in d:
            d["cell"] = d.pop("model")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}")
        return cls(**d)

    # ------------------------------------------------------------------ arithmetic
    def layer_input(self, layer: int) -> int:
        return self.embed_size if layer == 0 else self.hidden_size

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """{state_dict name: shape} of every weight (PyTorch's layout for every cell kind)."""
        g, h, v = self.blocks * self.hidden_size, self.hidden_size, self.vocab_size
        shapes = {"embed.weight": (v, self.embed_size), "head.weight": (v, h), "head.bias": (v,)}
        for i in range(self.num_layers):
            shapes |= {
                f"rnn.weight_ih_l{i}": (g, self.layer_input(i)),
                f"rnn.weight_hh_l{i}": (g, h),
                f"rnn.bias_ih_l{i}": (g,),
                f"rnn.bias_hh_l{i}": (g,),
            }
        return shapes

    def num_params(self) -> int:
        total = 0
        for shape in self.weight_shapes().values():
            n = 1
            for d in shape:
                n *= d
            total += n
        return total

    def forward_flops_per_char(self) -> int:
        """2 x multiply-adds of the matrix products for one character (the embedding is a
        lookup); training costs about 3x this (forward + backward)."""
        g, h = self.blocks, self.hidden_size
        rnn = sum(2 * g * h * (self.layer_input(i) + h) for i in range(self.num_layers))
        return rnn + 2 * h * self.vocab_size
