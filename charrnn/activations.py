"""Per-character activations of every layer, computed by an explicit step-by-step cell.

nn.LSTM / nn.GRU / nn.RNN hide their gates, so `charrnn inspect` re-runs the same weights one
time step at a time (PyTorch's gate order and equations, below) and records, for each layer:
    lstm: h, c and the gates i, f, g, o    (c = f*c + i*g,  h = o*tanh(c))
    gru:  h and the gates r, z, n          (n = tanh(Wx + r*(Uh + b)),  h = (1-z)*n + z*h)
    rnn:  h                                (h = tanh(Wx + Uh + b))
A test checks that h matches the fused nn modules to 1e-5.

Long texts are processed in chunks with the state carried between them (`iter_chunks`), so a
caller that only needs statistics never holds every activation in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from charrnn.model import CharRNN

QUANTITIES = {"lstm": ("h", "c", "i", "f", "g", "o"), "gru": ("h", "r", "z", "n"), "rnn": ("h",)}
GATES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ()}


@dataclass
class Chunk:
    """Activations for a stretch of text: arrays[q] is (layers, T, H); probs is (T, V), the
    model's next-character distribution after each character."""

    start: int
    arrays: dict
    probs: np.ndarray


def layer_weights(model: CharRNN, layer: int):
    rnn = model.rnn
    return (
        getattr(rnn, f"weight_ih_l{layer}"),
        getattr(rnn, f"weight_hh_l{layer}"),
        getattr(rnn, f"bias_ih_l{layer}"),
        getattr(rnn, f"bias_hh_l{layer}"),
    )


def cell_step(kind: str, weights, x_proj: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
    """One time step of one layer, batched or not. x_proj = x W_ih^T + b_ih (already computed
    for the whole sequence); h, c: (..., H). Returns (h, c, {gate: values})."""
    _, w_hh, _, b_hh = weights
    gates = x_proj + h @ w_hh.T + b_hh if kind != "gru" else None
    if kind == "lstm":
        i, f, g, o = gates.chunk(4, dim=-1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * c + i * g
        return o * c.tanh(), c, {"i": i, "f": f, "g": g, "o": o}
    if kind == "gru":
        xr, xz, xn = x_proj.chunk(3, dim=-1)
        hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
        r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
        n = (xn + r * hn).tanh()
        return (1 - z) * n + z * h, c, {"r": r, "z": z, "n": n}
    return gates.tanh(), c, {}


def run_layer(kind: str, weights, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
    """One layer over a sequence. x: (T, in), h/c: (H,). Returns ({q: (T, H)}, h, c)."""
    w_ih, _, b_ih, _ = weights
    x_proj = x @ w_ih.T + b_ih  # (T, G*H): the input part of every step at once
    steps = x.size(0)
    out = {q: torch.empty(steps, h.numel()) for q in QUANTITIES[kind]}
    for t in range(steps):
        h, c, gates = cell_step(kind, weights, x_proj[t], h, c)
        out["h"][t] = h
        if kind == "lstm":
            out["c"][t] = c
        for name, value in gates.items():
            out[name][t] = value
    return out, h, c


@torch.inference_mode()
def iter_chunks(model: CharRNN, ids: np.ndarray, chunk_len: int = 4096) -> Iterator[Chunk]:
    """Activations of `ids` (1-D), chunk by chunk, with the recurrent state carried."""
    model = model.cpu().eval()
    cfg = model.config
    hidden = [torch.zeros(cfg.hidden_size) for _ in range(cfg.num_layers)]
    cells = [torch.zeros(cfg.hidden_size) for _ in range(cfg.num_layers)]
    for start in range(0, len(ids), chunk_len):
        x = model.embed(torch.as_tensor(np.asarray(ids[start : start + chunk_len], np.int64)))
        per_layer = []
        for layer in range(cfg.num_layers):
            out, hidden[layer], c = run_layer(
                cfg.model, layer_weights(model, layer), x, hidden[layer], cells[layer]
            )
            if c is not None:
                cells[layer] = c
            per_layer.append(out)
            x = out["h"]  # dropout is off at inference
        probs = torch.softmax(model.head(x), dim=-1)
        arrays = {q: torch.stack([o[q] for o in per_layer]).numpy() for q in per_layer[0]}
        yield Chunk(start, arrays, probs.numpy())


def collect(model: CharRNN, ids: np.ndarray, layers=None, units=None, chunk_len: int = 4096):
    """All activations of `ids` in memory: ({q: (layers, T, H)}, probs (T, V))."""
    parts, probs = [], []
    for chunk in iter_chunks(model, ids, chunk_len):
        parts.append(select(chunk.arrays, layers, units))
        probs.append(chunk.probs)
    if not parts:
        return {}, np.zeros((0, model.config.vocab_size), np.float32)
    arrays = {q: np.concatenate([p[q] for p in parts], axis=1) for q in parts[0]}
    return arrays, np.concatenate(probs)


def select(arrays: dict, layers=None, units=None) -> dict:
    out = {}
    for q, a in arrays.items():
        if layers is not None:
            a = a[list(layers)]
        if units is not None:
            a = a[:, :, list(units)]
        out[q] = a
    return out
