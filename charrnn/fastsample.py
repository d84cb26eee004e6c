"""The CPU sampling path: the recurrent step in numpy, without torch's per-op dispatch.

Generating one character at batch 1 is ~1 MFLOP for a 2x256 LSTM: microseconds of arithmetic,
but a plain loop of nn.LSTM calls spends ~1.5 ms per character in framework overhead. Here the
step is a handful of numpy calls on weights laid out once up front:
  - layer 0's embedding and input projection fold into one table, E W_ih^T + b (V, G*H), so the
    input part of a step is a row lookup;
  - every other matrix multiply is one (B, in) @ (in, G*H) product.
Sampling draws from the cumulative distribution with numpy's seeded Generator.
"""

from __future__ import annotations

import numpy as np
import torch


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) is sigmoid without overflow warnings for large |x|
    return 0.5 + 0.5 * np.tanh(0.5 * x)


class NumpyRNN:
    def __init__(self, model):
        cfg = model.config
        self.kind, self.layers = cfg.model, cfg.num_layers
        self.hidden = cfg.hidden_size
        sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        w_ih0, b0 = sd["rnn.weight_ih_l0"], sd["rnn.bias_ih_l0"]
        self.table0 = (sd["embed.weight"] @ w_ih0.T + b0).astype(np.float32)  # (V, G*H)
        self.w_ih = [None] + [
            np.ascontiguousarray(sd[f"rnn.weight_ih_l{i}"].T) for i in range(1, self.layers)
        ]
        self.b_ih = [None] + [sd[f"rnn.bias_ih_l{i}"] for i in range(1, self.layers)]
        self.w_hh = [np.ascontiguousarray(sd[f"rnn.weight_hh_l{i}"].T) for i in range(self.layers)]
        self.b_hh = [sd[f"rnn.bias_hh_l{i}"] for i in range(self.layers)]
        self.w_out = np.ascontiguousarray(sd["head.weight"].T)  # (H, V)
        self.b_out = sd["head.bias"]

    def load_state(self, state) -> None:
        """From the torch model's state tuple (after running the prime through it)."""
        self.h = [state[0][i].float().cpu().numpy().copy() for i in range(self.layers)]
        self.c = (
            [state[1][i].float().cpu().numpy().copy() for i in range(self.layers)]
            if self.kind == "lstm"
            else None
        )

    def step(self, ids: np.ndarray) -> np.ndarray:
        """ids: (B,) -> logits (B, V), advancing the state."""
        H = self.hidden
        x_proj = self.table0[ids]  # (B, G*H)
        for i in range(self.layers):
            if i:
                x_proj = self.h[i - 1] @ self.w_ih[i] + self.b_ih[i]
            h_proj = self.h[i] @ self.w_hh[i] + self.b_hh[i]
            if self.kind == "lstm":
                z = x_proj + h_proj
                gates = _sigmoid(z[:, : 2 * H])
                g = np.tanh(z[:, 2 * H : 3 * H])
                o = _sigmoid(z[:, 3 * H :])
                self.c[i] = gates[:, H:] * self.c[i] + gates[:, :H] * g
                self.h[i] = o * np.tanh(self.c[i])
            elif self.kind == "gru":
                rz = _sigmoid(x_proj[:, : 2 * H] + h_proj[:, : 2 * H])
                n = np.tanh(x_proj[:, 2 * H :] + rz[:, :H] * h_proj[:, 2 * H :])
                z = rz[:, H:]
                self.h[i] = (1 - z) * n + z * self.h[i]
            else:
                self.h[i] = np.tanh(x_proj + h_proj)
        return self.h[-1] @ self.w_out + self.b_out


def draw(
    logits: np.ndarray,
    rng: np.random.Generator,
    temperature: float,
    top_k: int | None,
    argmax: bool,
    banned: int | None,
) -> np.ndarray:
    """(B, V) logits -> (B,) ids."""
    if banned is not None:
        logits[:, banned] = -np.inf
    if argmax:
        return logits.argmax(axis=1)
    z = logits / temperature
    if top_k is not None and top_k < z.shape[1]:
        kth = np.partition(z, -top_k, axis=1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(cdf))[:, None] * cdf[:, -1:]
    return np.minimum((cdf < u).sum(axis=1), cdf.shape[1] - 1)


@torch.inference_mode()
def generate_cpu(model, prime: list[int], cfg, banned: int | None):
    """Yields lists of ids, one per step, like sample.generate (CPU, numpy step)."""
    rng = np.random.default_rng(cfg.seed)
    x = torch.tensor(prime).unsqueeze(0).expand(cfg.num_samples, -1)
    logits, state = model(x)  # the prime in one batched forward pass
    fast = NumpyRNN(model)
    fast.load_state(state)
    last = logits[:, -1].float().numpy().copy()
    for _ in range(cfg.length):
        ids = draw(last, rng, cfg.temperature, cfg.top_k, cfg.argmax, banned)
        yield ids.tolist()
        last = fast.step(ids)
