"""The cell registry: everything charrnn knows about a recurrent cell kind, in one place.

A kind is one `CellSpec`: the torch module that trains it (cuDNN / oneDNN kernels), its gate
blocks in the order PyTorch stacks them in the weight matrices, its recurrent state, how each
quantity is labelled and coloured, and one `step` function. The step is written against a tiny
array API, `ops` (sigmoid, tanh, relu, split), so the same equations run on torch tensors
(`activations.TORCH_OPS`: inspect, gradient flow) and on numpy arrays (`fastsample.NUMPY_OPS`:
CPU sampling). Model, parameter count, activations, sampling, gradient flow, the pages and the
CLI's choices all derive from this table; tests/test_cells.py checks every entry against its torch
module. Adding a kind is one step function and one entry in `CELLS`.

Every kind uses PyTorch's weight layout, per layer l:
    weight_ih_l{l} (G*H, in), weight_hh_l{l} (G*H, H), bias_ih_l{l}, bias_hh_l{l} (G*H,)
with G = `blocks`. A step receives x_proj = x W_ih^T + b_ih and h_proj = h W_hh^T + b_hh (each
(..., G*H)) and the layer's state, and returns (new state, {gate: values}).

No imports beyond the standard library: `--help` and the numpy sampler read this without torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# How a quantity's values map onto the viewers' -1 .. +1 colour scale
# (inspection.activations.display_values):
BOUNDED = "tanh"  # already in -1 .. 1 (h of tanh cells, candidates)
GATE = "gate"  # 0 .. 1 (sigmoid gates): shown as 2v - 1
UNBOUNDED = "cell"  # any real value (LSTM cell state, ReLU hidden state): squashed by tanh


@dataclass(frozen=True)
class Quantity:
    name: str  # as in --quantity and the activation dumps
    label: str  # for people
    scale: str  # BOUNDED, GATE or UNBOUNDED
    color: str = "#555"  # in the gate-saturation scatter


@dataclass(frozen=True)
class CellSpec:
    name: str  # --model NAME
    about: str
    torch_module: str  # class in torch.nn
    blocks: int  # G: blocks stacked in each weight matrix
    states: tuple[Quantity, ...]  # recurrent state; states[0] is h, the layer's output
    gates: tuple[Quantity, ...]  # what `step` exposes besides the state, in block order
    step: Callable  # (ops, x_proj, h_proj, state) -> (state, {gate name: values})
    module_options: dict = field(default_factory=dict)  # extra arguments of the torch module

    @property
    def quantities(self) -> tuple[Quantity, ...]:
        return self.states + self.gates

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.states)

    @property
    def quantity_names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.quantities)

    @property
    def saturating_gates(self) -> tuple[str, ...]:
        """Sigmoid gates, whose saturation (near 0 / near 1) `inspect --saturation` measures."""
        return tuple(q.name for q in self.gates if q.scale == GATE)

    def quantity(self, name: str) -> Quantity:
        return next(q for q in self.quantities if q.name == name)

    @property
    def block_names(self) -> tuple[str, ...]:
        """Names of the weight blocks (for per-gate singular values); empty for one block."""
        return tuple(q.name for q in self.gates) if len(self.gates) == self.blocks > 1 else ()


# --------------------------------------------------------------------------- the steps
def lstm_step(ops, x_proj, h_proj, state):
    """c = f*c + i*g,  h = o*tanh(c)."""
    _, c = state
    i, f, g, o = ops.split(x_proj + h_proj, 4)
    i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
    c = f * c + i * g
    return (o * ops.tanh(c), c), {"i": i, "f": f, "g": g, "o": o}


def gru_step(ops, x_proj, h_proj, state):
    """n = tanh(x_n + r*(W_hn h + b_hn)),  h = (1-z)*n + z*h (r multiplies the hidden part)."""
    (h,) = state
    xr, xz, xn = ops.split(x_proj, 3)
    hr, hz, hn = ops.split(h_proj, 3)
    r, z = ops.sigmoid(xr + hr), ops.sigmoid(xz + hz)
    n = ops.tanh(xn + r * hn)
    return ((1 - z) * n + z * h,), {"r": r, "z": z, "n": n}


def rnn_step(ops, x_proj, h_proj, state):
    """h = tanh(W x + U h + b)."""
    return (ops.tanh(x_proj + h_proj),), {}


def relu_rnn_step(ops, x_proj, h_proj, state):
    """h = max(0, W x + U h + b)."""
    return (ops.relu(x_proj + h_proj),), {}


_H = Quantity("h", "hidden h", BOUNDED)

CELLS: dict[str, CellSpec] = {
    spec.name: spec
    for spec in (
        CellSpec(
            name="lstm",
            about="long short-term memory (Hochreiter & Schmidhuber 1997)",
            torch_module="LSTM",
            blocks=4,
            states=(_H, Quantity("c", "cell c", UNBOUNDED)),
            gates=(
                Quantity("i", "input gate i", GATE, "#1f77b4"),
                Quantity("f", "forget gate f", GATE, "#d62728"),
                Quantity("g", "candidate g", BOUNDED),
                Quantity("o", "output gate o", GATE, "#2ca02c"),
            ),
            step=lstm_step,
        ),
        CellSpec(
            name="gru",
            about="gated recurrent unit (Cho et al. 2014)",
            torch_module="GRU",
            blocks=3,
            states=(_H,),
            gates=(
                Quantity("r", "reset gate r", GATE, "#9467bd"),
                Quantity("z", "update gate z", GATE, "#ff7f0e"),
                Quantity("n", "candidate n", BOUNDED),
            ),
            step=gru_step,
        ),
        CellSpec(
            name="rnn",
            about="vanilla tanh RNN (Elman 1990)",
            torch_module="RNN",
            blocks=1,
            states=(_H,),
            gates=(),
            step=rnn_step,
        ),
        CellSpec(
            name="relu",
            about="vanilla ReLU RNN (Le et al. 2015)",
            torch_module="RNN",
            blocks=1,
            states=(Quantity("h", "hidden h (ReLU)", UNBOUNDED),),
            gates=(),
            step=relu_rnn_step,
            module_options={"nonlinearity": "relu"},
        ),
    )
}
