"""Loss of a model on a sequence of ids, in nats and bits per character.

The ids are cut into B contiguous streams walked in windows of T steps with the state carried
(the same layout as training, `data.Layout`), so each character is scored with the context of
everything before it in its stream.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from charrnn.data import Layout, window
from charrnn.metrics import LN2


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
def carried_loss_sum(model, ids: np.ndarray, chunk_len: int = 4096, progress=None):
    """(sum of per-character losses in nats, characters scored): the text read once from its
    first character to its last with the state carried, every character after the first scored
    (the first only starts the state). What `charrnn eval` and `Model.loss` report."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    x_all = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)
    total = torch.zeros((), dtype=torch.float64, device=device)
    state, n = None, len(ids) - 1
    for start in range(0, n, chunk_len):
        x = x_all[start : min(start + chunk_len, n)].unsqueeze(0)  # (1, W)
        y = x_all[start + 1 : start + 1 + x.size(1)]
        logits, state = model(x, state)
        total += F.cross_entropy(logits[0].float(), y, reduction="sum").double()
        if progress:
            progress(start + x.size(1), n)
    model.train(was_training)
    return float(total), max(n, 0)


@torch.inference_mode()
def char_losses(model, ids: np.ndarray, window_len: int = 1024):
    """(bits (T,), probs (T, V)): the loss on each character in bits (0 for the first, which
    has no context) and the next-character distribution after each one; batch 1, state carried."""
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
    return bits.numpy(), torch.cat(probs).numpy()


@torch.inference_mode()
def fresh_window_loss_sum(
    model, ids: np.ndarray, window_len: int = 64, batch_size: int = 256, device="cpu"
) -> tuple[float, int]:
    """Loss over consecutive non-overlapping windows of `window_len` characters, each scored
    from a zero state with every position counted: the metric of block-based models such as
    nanoGPT (its `estimate_loss` draws such windows at random), for comparing with them."""
    n = (len(ids) - 1) // window_len
    if n < 1:
        return 0.0, 0
    model.eval()
    starts = np.arange(n, dtype=np.int64) * window_len
    total, count = 0.0, 0
    for b in range(0, n, batch_size):
        idx = starts[b : b + batch_size, None] + np.arange(window_len + 1)
        xy = torch.from_numpy(np.asarray(ids[idx], dtype=np.int64)).to(device)
        logits, _ = model(xy[:, :-1])
        loss = F.cross_entropy(logits.float().flatten(0, 1), xy[:, 1:].flatten(), reduction="sum")
        total += float(loss)
        count += xy[:, 1:].numel()
    return total, count


def score_file(
    ckpt, file, *, seq_len: int, batch_size: int, device: str, fresh_windows: bool = False
) -> dict:
    """`charrnn eval`: the loss of a checkpoint on a text file, in nats and bits per character."""
    from charrnn.checkpoint import load_model
    from charrnn.corpus import encode_file
    from charrnn.errors import DataError
    from charrnn.runtime import pick_device

    model, vocab, _ = load_model(ckpt, pick_device(device))
    ids = encode_file(file, vocab)
    if len(ids) < 2 or (fresh_windows and len(ids) <= seq_len):
        raise DataError(f"{file}: too short to score (need more than {seq_len} characters).")
    device_of = next(model.parameters()).device
    if fresh_windows:
        total, count = fresh_window_loss_sum(model, ids, seq_len, device=device_of)
    else:
        total, count = loss_sum(
            model, ids, seq_len=seq_len, batch_size=batch_size, device=device_of
        )
    return {
        "loss": total / count,
        "bpc": total / count / LN2,
        "chars": count,
        "mode": f"fresh {seq_len}-char windows" if fresh_windows else "carried state",
    }
