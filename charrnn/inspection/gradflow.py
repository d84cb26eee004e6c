"""How far back gradients reach: the backpropagation-through-time picture of the lecture.

`gradient_flow` unrolls the model step by step over windows of the text and measures, for the
loss at the last step L_T, the norm of its gradient with respect to the hidden state k steps
earlier, ||dL_T / dh_{T-k}|| (and for an LSTM the cell state c_{T-k}), k = 0..K, averaged over
windows. In a vanilla RNN each step back multiplies by diag(tanh') W_hh, so the norm shrinks or
grows geometrically with W_hh's singular values; the LSTM's cell state is an additive path that
the forget gate can keep open.

`recurrent_singular_values` reports the largest singular value of each recurrent matrix (and of
each gate's block), the quantity that decides which way that goes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from charrnn.inspection.activations import cell_step
from charrnn.model.network import layer_weights


def recurrent_singular_values(model) -> list[dict]:
    """Per layer: {"W_hh": sigma_max, "<gate>": sigma_max of that gate's block, ...}."""
    cfg = model.config
    out = []
    with torch.no_grad():
        for layer in range(cfg.num_layers):
            w = layer_weights(model, layer)[1].detach().float().cpu()
            row = {"W_hh": float(torch.linalg.matrix_norm(w, ord=2))}
            for name, block in zip(cfg.cell_spec.block_names, w.chunk(cfg.blocks), strict=False):
                row[name] = float(torch.linalg.matrix_norm(block, ord=2))
            out.append(row)
    return out


@dataclass
class GradFlow:
    horizon: int
    windows: int
    norms: dict  # {state name: (L, K+1) mean ||dL_T/d state_{T-k}|| per layer}: h, and c (LSTM)

    @property
    def h(self) -> np.ndarray:
        return self.norms["h"]

    def per_step_ratio(self, layer: int = -1) -> float:
        """Geometric-mean factor by which the hidden-state gradient changes per step back."""
        g = self.h[layer]
        g = g[g > 0]
        if len(g) < 2:
            return float("nan")
        return float(np.exp((np.log(g[-1]) - np.log(g[0])) / (len(g) - 1)))

    def to_dict(self) -> dict:
        return {
            "horizon": self.horizon,
            "windows": self.windows,
            **{name: values.tolist() for name, values in self.norms.items()},
            "per_step_ratio": [self.per_step_ratio(i) for i in range(self.h.shape[0])],
        }


def window_starts(n: int, horizon: int, windows: int, warmup: int) -> np.ndarray:
    span = horizon + 2  # K+1 inputs and the target after the last one
    first, last = warmup, n - span
    if last < first:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(first, last, num=windows).round().astype(np.int64))


def gradient_flow(
    model, ids: np.ndarray, horizon: int = 50, windows: int = 32, warmup: int = 100
) -> GradFlow:
    """Windows spread evenly over `ids`, each preceded by `warmup` characters that set a
    realistic state (no gradient), then K+1 steps unrolled with autograd."""
    model = model.cpu().eval()
    cfg = model.config
    starts = window_starts(len(ids), horizon, windows, min(warmup, max(0, len(ids) - horizon - 2)))
    if len(starts) == 0:
        raise ValueError(f"text too short for --horizon {horizon} (need {horizon + 2} characters)")
    ids_t = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    batch = len(starts)
    with torch.no_grad():  # warm-up: the state the model would be in at each window start
        state = None
        if warmup:
            w = min(warmup, int(starts.min()))
            ctx = torch.stack([ids_t[s - w : s] for s in starts]) if w else None
            if ctx is not None:
                _, state = model(ctx, None)
    names = cfg.state_names
    zeros = tuple(torch.zeros(batch, cfg.hidden_size) for _ in names)
    layer_states = [
        tuple(s[layer].clone() for s in state) if state else zeros
        for layer in range(cfg.num_layers)
    ]
    x_ids = torch.stack([ids_t[s : s + horizon + 1] for s in starts])  # (B, K+1)
    target = torch.stack([ids_t[s + horizon + 1] for s in starts])  # (B,)
    weights = [layer_weights(model, layer) for layer in range(cfg.num_layers)]
    seen = []  # seen[t][layer]: the state tuple whose gradients we read
    with torch.enable_grad():
        for t in range(horizon + 1):
            x = model.embed(x_ids[:, t])
            seen.append([])
            for layer in range(cfg.num_layers):
                w_ih, _, b_ih, _ = weights[layer]
                layer_states[layer], _ = cell_step(
                    cfg.cell_spec, weights[layer], x @ w_ih.T + b_ih, layer_states[layer]
                )
                for s in layer_states[layer]:
                    s.retain_grad()
                seen[-1].append(layer_states[layer])
                x = layer_states[layer][0]
        loss = F.cross_entropy(model.head(x), target, reduction="sum")  # windows independent
        loss.backward()
    norms = {name: np.zeros((cfg.num_layers, horizon + 1)) for name in names}
    for k in range(horizon + 1):
        for layer in range(cfg.num_layers):
            for name, s in zip(names, seen[horizon - k][layer], strict=True):
                norms[name][layer, k] = 0.0 if s.grad is None else float(s.grad.norm(dim=1).mean())
    model.zero_grad(set_to_none=True)
    return GradFlow(horizon, batch, norms)
