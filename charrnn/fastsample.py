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

import numpy as np

from charrnn import ckptfile
from charrnn.errors import CheckpointError
from charrnn.modelconfig import ModelConfig


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) is sigmoid without overflow warnings for large |x|
    return 0.5 + 0.5 * np.tanh(0.5 * x)


def expected_shapes(cfg: ModelConfig) -> dict:
    g, h, e, v = cfg.gates * cfg.hidden_size, cfg.hidden_size, cfg.embed_size, cfg.vocab_size
    shapes = {"embed.weight": (v, e), "head.weight": (v, h), "head.bias": (v,)}
    for i in range(cfg.num_layers):
        shapes |= {
            f"rnn.weight_ih_l{i}": (g, e if i == 0 else h),
            f"rnn.weight_hh_l{i}": (g, h),
            f"rnn.bias_ih_l{i}": (g,),
            f"rnn.bias_hh_l{i}": (g,),
        }
    return shapes


class NumpyRNN:
    """The model's forward step for sampling: weights {state_dict name: array}.

    For an LSTM the i, f, o rows of every weight and bias are pre-scaled by 1/2, so one tanh
    over all four gates gives sigmoid(x) = (1 + tanh(x/2)) / 2 for i, f, o and tanh(x) for g;
    layers above the first take [h_below, h] @ [W_ih; W_hh] as one matrix product.
    """

    def __init__(self, cfg: ModelConfig, weights: dict):
        self.kind, self.layers, self.hidden = cfg.model, cfg.num_layers, cfg.hidden_size
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        (self._init_gru if self.kind == "gru" else self._init_fused)(w, cfg)
        self.w_out = np.ascontiguousarray(w["head.weight"].T)  # (H, V)
        self.b_out = w["head.bias"]
        self.reset(1)

    def _init_fused(self, w: dict, cfg: ModelConfig) -> None:
        """LSTM / RNN: one (pre-scaled) matrix product and one tanh per layer and step."""
        scale = self._gate_scale(cfg)
        bias0 = w["rnn.bias_ih_l0"] + w["rnn.bias_hh_l0"]
        self.table0 = (w["embed.weight"] @ w["rnn.weight_ih_l0"].T + bias0) * scale
        self.w, self.b = [np.ascontiguousarray(w["rnn.weight_hh_l0"].T * scale)], [None]
        for i in range(1, self.layers):
            both = np.concatenate([w[f"rnn.weight_ih_l{i}"].T, w[f"rnn.weight_hh_l{i}"].T])
            self.w.append(np.ascontiguousarray(both * scale))
            self.b.append((w[f"rnn.bias_ih_l{i}"] + w[f"rnn.bias_hh_l{i}"]) * scale)

    def _init_gru(self, w: dict, cfg: ModelConfig) -> None:
        """GRU: the input and hidden products stay apart (r multiplies the hidden one)."""
        self.table0 = w["embed.weight"] @ w["rnn.weight_ih_l0"].T + w["rnn.bias_ih_l0"]
        self.w_ih = [None] + [
            np.ascontiguousarray(w[f"rnn.weight_ih_l{i}"].T) for i in range(1, self.layers)
        ]
        self.b_ih = [None] + [w[f"rnn.bias_ih_l{i}"] for i in range(1, self.layers)]
        self.w_hh = [np.ascontiguousarray(w[f"rnn.weight_hh_l{i}"].T) for i in range(self.layers)]
        self.b_hh = [w[f"rnn.bias_hh_l{i}"] for i in range(self.layers)]

    def _gate_scale(self, cfg: ModelConfig) -> np.ndarray:
        H = cfg.hidden_size
        if self.kind == "lstm":  # i, f, g, o: halve i, f, o (sigmoid through tanh)
            return np.concatenate([np.full(2 * H, 0.5), np.ones(H), np.full(H, 0.5)]).astype(
                np.float32
            )
        return np.ones(cfg.gates * H, np.float32)

    @classmethod
    def from_torch(cls, model) -> NumpyRNN:
        sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        return cls(model.config, sd)

    def reset(self, batch: int) -> None:
        H = self.hidden
        # xh[i] = [h of layer i-1 | h of layer i]: layer i's whole input for one product,
        # filled in place each step (no concatenation).
        self.xh = [np.zeros((batch, 2 * H), np.float32) for _ in range(self.layers)]
        self.h = [np.zeros((batch, H), np.float32) for _ in range(self.layers)]
        self.c = [np.zeros((batch, H), np.float32) for _ in range(self.layers)]

    def step(self, ids: np.ndarray) -> np.ndarray:
        """ids: (B,) -> logits (B, V), advancing the state."""
        if self.kind == "gru":
            return self._gru_step(ids)
        H = self.hidden
        for i in range(self.layers):
            if i == 0:
                z = self.table0[ids] + self.h[0] @ self.w[0]
            else:
                xh = self.xh[i]
                xh[:, :H] = self.h[i - 1]
                xh[:, H:] = self.h[i]
                z = xh @ self.w[i]
                z += self.b[i]
            if self.kind == "lstm":
                t = np.tanh(z, out=z)  # i, f, o: tanh(x/2); g: tanh(x)
                t[:, : 2 * H] *= 0.5
                t[:, : 2 * H] += 0.5  # now sigmoid for i and f
                c = self.c[i]
                c *= t[:, H : 2 * H]
                c += t[:, :H] * t[:, 2 * H : 3 * H]
                self.h[i] = (0.5 + 0.5 * t[:, 3 * H :]) * np.tanh(c)
            else:
                self.h[i] = np.tanh(z)
        return self.h[-1] @ self.w_out + self.b_out

    def _gru_step(self, ids: np.ndarray) -> np.ndarray:
        H = self.hidden
        x_proj = self.table0[ids]
        for i in range(self.layers):
            if i:
                x_proj = self.h[i - 1] @ self.w_ih[i] + self.b_ih[i]
            h_proj = self.h[i] @ self.w_hh[i] + self.b_hh[i]
            rz = _sigmoid(x_proj[:, : 2 * H] + h_proj[:, : 2 * H])  # gate order r, z, n
            n = np.tanh(x_proj[:, 2 * H :] + rz[:, :H] * h_proj[:, 2 * H :])
            self.h[i] = (1 - rz[:, H:]) * n + rz[:, H:] * self.h[i]
        return self.h[-1] @ self.w_out + self.b_out


def load(path) -> tuple[NumpyRNN, object, dict]:
    """(sampler, vocab, metadata) from a checkpoint file or run directory, without torch."""
    path = ckptfile.resolve(path)
    entries, meta = ckptfile.read_header(path)
    cfg, vocab = ckptfile.read_config(path, meta)
    arrays = ckptfile.load_arrays(path, entries, ("model",), "numpy")
    weights = {k[len("model.") :]: v for k, v in arrays.items()}
    for name, shape in expected_shapes(cfg).items():
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
