"""Loss of a model on a sequence of ids, in nats and bits per character.

- `score` (what `charrnn eval` and `Model.loss` report): the text read once from its first
  character to its last with the state carried, every character after the first scored; or,
  by name, nanoGPT's protocol (separate windows, each from a zero state).
- `loss_sum` (validation during training, fast): the ids cut into B contiguous streams walked in
  windows of T steps with the state carried (the training layout, `data.Layout`), each stream
  starting from a zero state.
- `char_losses`: the loss on each character and the distribution before it, for the pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from charrnn.data.batches import Layout, window
from charrnn.errors import DataError
from charrnn.words import plural

LN2 = math.log(2)


def bpc(nats: float) -> float:
    """Bits per character from nats per character (natural log, what cross-entropy returns):
    the figure people compare."""
    return nats / LN2


def eval_layout(n: int, seq_len: int, batch_size: int) -> Layout | None:
    """Fewer streams for short texts, so that each stream holds at least one window."""
    if n < 2:
        return None
    batch_size = max(1, min(batch_size, (n - 1) // seq_len))
    return Layout(n, batch_size, seq_len)


@torch.inference_mode()
def loss_sum(
    model, ids: np.ndarray, seq_len: int = 128, batch_size: int = 16, device="cpu", share=None
) -> tuple[float, int]:
    """(sum of per-character losses in nats, number of characters scored). `share(n)` picks
    the streams this process scores (distributed evaluation); by default all of them."""
    layout = eval_layout(len(ids), seq_len, batch_size)
    if layout is None:
        return 0.0, 0
    rows = share(layout.batch_size) if share else slice(None)
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=device)
    count, state = 0, None
    for w in range(layout.num_windows):
        x, y = window(ids, layout, w, rows)
        if x.size == 0:
            break  # this rank has no stream to score
        x, y = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="sum")
        total += loss.double()
        count += y.numel()
    model.train(was_training)
    return float(total), count


@torch.inference_mode()
def carried_loss_sums(model, ids: np.ndarray, scored=None, chunk_len: int = 4096, progress=None):
    """The text read once from its first character to its last with the state carried:
    ((sum of losses in nats, count) over the scored positions, (sum, count) over the others).
    `scored` is a bool mask over positions (targets); by default every one after the first (the
    first only starts the state)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    x_all = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)
    mask = torch.ones(len(ids), dtype=torch.bool) if scored is None else torch.as_tensor(scored)
    mask = mask.to(device)
    sums = torch.zeros(2, dtype=torch.float64, device=device)  # scored, apart
    state, n = None, len(ids) - 1
    for start in range(0, n, chunk_len):
        x = x_all[start : min(start + chunk_len, n)].unsqueeze(0)  # (1, W)
        y = x_all[start + 1 : start + 1 + x.size(1)]
        logits, state = model(x, state)
        losses = F.cross_entropy(logits[0].float(), y, reduction="none").double()  # (W,)
        m = mask[start + 1 : start + 1 + x.size(1)]
        sums += torch.stack([losses[m].sum(), losses[~m].sum()])
        if progress:
            progress(start + x.size(1), n)
    model.train(was_training)
    scored_count = int(mask[1:].sum()) if n > 0 else 0
    total, apart = sums.tolist()
    return (total, scored_count), (apart, max(n, 0) - scored_count)


@torch.inference_mode()
def char_losses(model, ids: np.ndarray, window_len: int = 1024, progress=None):
    """(bits (T,), probs (T, V)): the loss on each character in bits (0 for the first, which
    has no context) and the next-character distribution after each one; batch 1, state carried
    (as `score`)."""
    model.eval()
    device = next(model.parameters()).device
    x_all = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)
    bits = torch.zeros(len(ids), dtype=torch.float64)
    probs, state = [], None
    for start in range(0, len(ids), window_len):
        logits, state = model(x_all[start : start + window_len].unsqueeze(0), state)
        logp = torch.log_softmax(logits[0].float(), dim=-1)  # (W, V)
        probs.append(logp.exp().cpu())
        nxt = x_all[start + 1 : start + window_len + 1]
        bits[start + 1 : start + 1 + len(nxt)] = (
            -logp[: len(nxt)].gather(1, nxt[:, None])[:, 0].double().cpu() / LN2
        )
        if progress:
            progress(min(start + window_len, len(ids)), len(ids))
    return bits.numpy(), torch.cat(probs).numpy()


@torch.inference_mode()
def fresh_window_loss_sums(
    model, ids: np.ndarray, window_len: int = 256, scored=None, batch_size: int = 64, progress=None
):
    """Consecutive non-overlapping windows of `window_len` characters, each scored from a zero
    state with every position counted: nanoGPT's validation metric (its `estimate_loss`
    averages such windows drawn at random; every offset in a window weighs the same either way,
    so the two agree in expectation), for comparing with block-based models. Returns
    ((sum, count) over the scored positions, (sum, count) over the others), as carried_loss_sums."""
    n = (len(ids) - 1) // window_len
    if n < 1:
        return (0.0, 0), (0.0, 0)
    model.eval()
    device = next(model.parameters()).device
    mask = np.ones(len(ids), bool) if scored is None else np.asarray(scored, bool)
    starts = np.arange(n, dtype=np.int64) * window_len
    sums, counts = [0.0, 0.0], [0, 0]
    for b in range(0, n, batch_size):
        idx = starts[b : b + batch_size, None] + np.arange(window_len + 1)
        xy = torch.from_numpy(np.asarray(ids[idx], dtype=np.int64)).to(device)
        logits, _ = model(xy[:, :-1])
        losses = F.cross_entropy(
            logits.float().flatten(0, 1), xy[:, 1:].flatten(), reduction="none"
        ).double()
        m = torch.from_numpy(mask[idx[:, 1:]].ravel()).to(device)
        sums[0] += float(losses[m].sum())
        sums[1] += float(losses[~m].sum())
        counts[0] += int(m.sum())
        counts[1] += int((~m).sum())
        if progress:
            progress(min((b + batch_size) * window_len, n * window_len), n * window_len)
    return (sums[0], counts[0]), (sums[1], counts[1])


@dataclass(frozen=True)
class Score:
    """A model's loss on a text, and how it was scored."""

    loss: float  # nats per character, over the scored characters
    chars: int  # characters scored
    protocol: str  # "carried", "windows" or "dynamic" (carried, adapting: dynamic.py)
    window: int | None = None
    apart_loss: float | None = None  # nats per character on positions scored apart (mapped)
    apart_chars: int = 0
    adapting: str | None = None  # "dynamic": the update, in words

    @property
    def bpc(self) -> float:
        return self.loss / LN2

    @property
    def how(self) -> str:
        if self.protocol == "windows":
            return f"separate {self.window}-character windows, each from a zero state"
        if self.protocol == "dynamic":
            return f"read once with the state carried, adapting: {self.adapting}"
        return "read once from the first character to the last, the state carried"

    def to_dict(self) -> dict:
        d = {"loss": self.loss, "bpc": self.bpc, "chars": self.chars, "protocol": self.protocol,
             "window": self.window, "how": self.how}  # fmt: skip
        if self.apart_chars:
            d["scored_apart"] = {"chars": self.apart_chars, "loss": self.apart_loss,
                                 "bpc": self.apart_loss / LN2}  # fmt: skip
        return d


def score(model, ids: np.ndarray, window: int | None = None, progress=None, scored=None) -> Score:
    """The model's loss on `ids`: by default every character after the first, the state carried
    through the whole text; with `window`, nanoGPT's protocol. `scored` (bool per position)
    leaves positions out of the figure, to be scored apart (characters the model never saw)."""
    if window is None:
        (total, count), (apart, n_apart) = carried_loss_sums(model, ids, scored, progress=progress)
    else:
        (total, count), (apart, n_apart) = fresh_window_loss_sums(
            model, ids, window, scored, progress=progress
        )
    if count < 1:
        need = (window or 1) + 1
        raise DataError(f"too short to score: {plural(len(ids), 'character')} (need at least "
                        f"{need}).")  # fmt: skip
    protocol = "windows" if window else "carried"
    return Score(total / count, count, protocol, window, apart / n_apart if n_apart else None,
                 n_apart)  # fmt: skip


def score_file(ckpt, file, *, window=None, device="auto", unknown="map", progress=None):
    """`charrnn eval`: (Score, Reading) of a checkpoint on a text file (see `score`)."""
    from charrnn.data.reading import read_file
    from charrnn.files.checkpoint import load_model
    from charrnn.runtime import pick_device

    model, vocab, _ = load_model(ckpt, pick_device(device))
    reading = read_file(vocab, file, unknown)
    try:
        return score(model, reading.ids, window, progress, reading.scored()), reading
    except DataError as e:
        raise DataError(f"{file}: {e}") from None
