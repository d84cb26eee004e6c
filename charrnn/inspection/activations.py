"""Per-character activations of every layer, computed by an explicit step-by-step cell.

The fused torch modules hide their gates, so `charrnn inspect` re-runs the same weights one time
step at a time with the cell kind's own `step` (cells.py) on torch tensors, and records every
quantity the kind has: its state (h; c for an LSTM) and its gates (i, f, g, o; r, z, n).
tests/test_cells.py checks that h and the final state match the fused modules to 1e-5.

Long texts are processed in chunks with the state carried between them (`iter_chunks`), so a
caller that only needs statistics never holds every activation in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch

from charrnn.model.cells import GATE, UNBOUNDED, CellSpec, Quantity
from charrnn.model.network import CharRNN, layer_weights

# The array API of cells.py on torch tensors.
TORCH_OPS = SimpleNamespace(
    sigmoid=torch.sigmoid,
    tanh=torch.tanh,
    relu=torch.relu,
    split=lambda x, n: x.chunk(n, dim=-1),
)


@dataclass
class Chunk:
    """Activations for a stretch of text: arrays[q] is (layers, T, H); probs is (T, V), the
    model's next-character distribution after each character."""

    start: int
    arrays: dict
    probs: np.ndarray


def cell_step(cell: CellSpec, weights, x_proj: torch.Tensor, state: tuple):
    """One time step of one layer, batched or not. x_proj = x W_ih^T + b_ih (already computed
    for the whole sequence); state: the layer's (h, ...) each (..., H). Returns (state, gates)."""
    _, w_hh, _, b_hh = weights
    return cell.step(TORCH_OPS, x_proj, state[0] @ w_hh.T + b_hh, state)


def run_layer(cell: CellSpec, weights, x: torch.Tensor, state: tuple):
    """One layer over a sequence. x: (T, in), state: (H,) each. Returns ({q: (T, H)}, state)."""
    w_ih, _, b_ih, _ = weights
    x_proj = x @ w_ih.T + b_ih  # (T, G*H): the input part of every step at once
    steps, hidden = x.size(0), state[0].numel()
    out = {q: torch.empty(steps, hidden) for q in cell.quantity_names}
    for t in range(steps):
        state, gates = cell_step(cell, weights, x_proj[t], state)
        for name, value in zip(cell.state_names, state, strict=True):
            out[name][t] = value
        for name, value in gates.items():
            out[name][t] = value
    return out, state


@torch.inference_mode()
def iter_chunks(
    model: CharRNN, ids: np.ndarray, chunk_len: int = 4096, progress=None
) -> Iterator[Chunk]:
    """Activations of `ids` (1-D), chunk by chunk, with the recurrent state carried;
    `progress(done, total)` after each chunk."""
    model = model.cpu().eval()
    cfg = model.config
    zeros = tuple(torch.zeros(cfg.hidden_size) for _ in cfg.state_names)
    states = [zeros] * cfg.num_layers
    for start in range(0, len(ids), chunk_len):
        x = model.embed(torch.as_tensor(np.asarray(ids[start : start + chunk_len], np.int64)))
        per_layer = []
        for layer in range(cfg.num_layers):
            weights = layer_weights(model, layer)
            out, states[layer] = run_layer(cfg.cell_spec, weights, x, states[layer])
            per_layer.append(out)
            x = out["h"]  # dropout is off at inference
        probs = torch.softmax(model.head(x), dim=-1)
        arrays = {q: torch.stack([o[q] for o in per_layer]).numpy() for q in per_layer[0]}
        if progress:
            progress(min(start + chunk_len, len(ids)), len(ids))
        yield Chunk(start, arrays, probs.numpy())


def collect(
    model: CharRNN, ids: np.ndarray, layers=None, units=None, chunk_len: int = 4096, progress=None
):
    """All activations of `ids` in memory: ({q: (layers, T, H)}, probs (T, V))."""
    parts, probs = [], []
    for chunk in iter_chunks(model, ids, chunk_len, progress):
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


def display_values(quantity: Quantity, values: np.ndarray) -> np.ndarray:
    """Values on the -1 .. +1 color scale: 2v - 1 for gates (0 .. 1), tanh for unbounded
    quantities (cell states), as they are for bounded ones (h of tanh cells, candidates)."""
    if quantity.scale == UNBOUNDED:
        return np.tanh(values)
    return 2 * values - 1 if quantity.scale == GATE else values
