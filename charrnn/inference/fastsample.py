"""The CPU sampling path: the recurrent step in numpy, without torch.

Generating one character at batch 1 is ~1 MFLOP for a 2x256 LSTM: microseconds of arithmetic,
but a plain loop of nn.LSTM calls spends ~1.5 ms per character in framework overhead. Here the
step is a handful of numpy calls on weights laid out once up front:
  - layer 0's embedding and input projection fold into one table, E W_ih^T + b (V, G*H), so the
    input part of a step is a row lookup;
  - every other matrix multiply is one (B, in) @ (in, G*H) product.
Sampling draws from the cumulative distribution with numpy's seeded Generator. Loading reads the
checkpoint's weights as numpy arrays, so `charrnn sample` on the CPU never imports torch (about
2 s saved before the first character).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from charrnn.errors import CheckpointError
from charrnn.files.format import load_arrays, read_config, read_header, resolve
from charrnn.model.config import ModelConfig


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) is sigmoid without overflow warnings for large |x|
    t = np.tanh(x * 0.5)
    t *= 0.5
    t += 0.5
    return t


# The array API of cells.py on numpy arrays.
NUMPY_OPS = SimpleNamespace(
    sigmoid=_sigmoid,
    tanh=np.tanh,
    relu=lambda x: np.maximum(x, 0),
    split=lambda x, n: _split(x, n),
)


def _split(x: np.ndarray, n: int) -> list[np.ndarray]:
    w = x.shape[-1] // n  # views, not copies (np.split is several times slower at batch 1)
    return [x[..., k * w : (k + 1) * w] for k in range(n)]


class NumpyRNN:
    """The model's forward step for sampling: weights {state_dict name: array}, transposed once
    so each product is (B, in) @ (in, G*H); layer 0's embedding and input projection are folded
    into one table, E W_ih^T + b_ih (V, G*H), so its input part is a row lookup."""

    def __init__(self, cfg: ModelConfig, weights: dict):
        self.cell, self.layers, self.hidden = cfg.cell_spec, cfg.num_layers, cfg.hidden_size
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.table0 = w["embed.weight"] @ w["rnn.weight_ih_l0"].T + w["rnn.bias_ih_l0"]
        self.w_ih = [None] + [
            np.ascontiguousarray(w[f"rnn.weight_ih_l{i}"].T) for i in range(1, self.layers)
        ]
        self.b_ih = [None] + [w[f"rnn.bias_ih_l{i}"] for i in range(1, self.layers)]
        self.w_hh = [np.ascontiguousarray(w[f"rnn.weight_hh_l{i}"].T) for i in range(self.layers)]
        self.b_hh = [w[f"rnn.bias_hh_l{i}"] for i in range(self.layers)]
        self.w_out = np.ascontiguousarray(w["head.weight"].T)  # (H, V)
        self.b_out = w["head.bias"]
        self.reset(1)

    @classmethod
    def from_torch(cls, model) -> NumpyRNN:
        sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        return cls(model.config, sd)

    def reset(self, batch: int) -> None:
        zeros = tuple(np.zeros((batch, self.hidden), np.float32) for _ in self.cell.states)
        self.state = [zeros] * self.layers

    def step(self, ids: np.ndarray) -> np.ndarray:
        """ids: (B,) -> logits (B, V), advancing the state."""
        x_proj = self.table0[ids]  # (B, G*H)
        for i in range(self.layers):
            if i:
                x_proj = self.state[i - 1][0] @ self.w_ih[i]
                x_proj += self.b_ih[i]
            h_proj = self.state[i][0] @ self.w_hh[i]
            h_proj += self.b_hh[i]
            self.state[i], _ = self.cell.step(NUMPY_OPS, x_proj, h_proj, self.state[i])
        return self.state[-1][0] @ self.w_out + self.b_out


def load(path) -> tuple[NumpyRNN, object, dict]:
    """(sampler, vocab, metadata) from a checkpoint file or run directory, without torch."""
    path = resolve(path)
    entries, meta = read_header(path)
    cfg, vocab = read_config(path, meta)
    arrays = load_arrays(path, entries, meta, ("model",), "numpy")
    weights = {k[len("model.") :]: v for k, v in arrays.items()}
    for name, shape in cfg.weight_shapes().items():
        if name not in weights or tuple(weights[name].shape) != shape:
            raise CheckpointError(f"{path}: weights do not match the model config ({name}).")
    return NumpyRNN(cfg, weights), vocab, meta


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


def generate(rnn: NumpyRNN, vocab, prime: list[int], cfg) -> Iterator[list[int]]:
    """Yields lists of ids, one per step, like sample.generate."""
    rng = np.random.default_rng(cfg.seed)
    rnn.reset(cfg.num_samples)
    for i in prime:  # the prime, one step per character
        last = rnn.step(np.full(cfg.num_samples, i))
    for _ in range(cfg.length):
        ids = draw(last, rng, cfg.temperature, cfg.top_k, cfg.argmax, vocab.unk_id)
        yield ids.tolist()
        last = rnn.step(ids)
