"""Token ids -> the train / val / test split and truncated-BPTT batches.

Batch layout (`window`). The training ids are cut into B contiguous streams that overlap by one
character, so that inputs cover ids[0 : B*L] exactly once and targets are inputs shifted by one:

    ids:     0 1 2 3 4 5 6 7 8 9 10 11 12          n = 13, B = 3, L = (n - 1) // B = 4
    stream 0: 0 1 2 3 [4]                           inputs 0..3, targets 1..4
    stream 1:         4 5 6 7 [8]                   inputs 4..7, targets 5..8
    stream 2:                 8 9 10 11 [12]        inputs 8..11, targets 9..12

Windows of T steps walk along all streams together: window w has x = stream[:, w*T : w*T + T]
and y = stream[:, w*T + 1 : w*T + T + 1] (the last window is shorter when T does not divide L).
Row b of consecutive windows continues the same stream, which is why the hidden state can be
carried from one window to the next (truncated BPTT).

Shuffled chunks (`chunk_windows` = K > 0). With few streams, contiguous streams make every batch
for thousands of steps come from the same B stretches of the text, and the weights drift towards
whatever those stretches hold (the validation loss rises and falls with the position in the
epoch, and the low-lr end of a run is spent on B places). Instead the training ids are cut into
chunks of K windows (K*T characters), and each epoch deals a fresh random order of the chunks to
the streams: stream b reads its chunks one after another, so the state is still carried from
window to window, and jumps to another random place every K windows (the state it carries into a
new chunk is from unrelated text; the model recovers within a few characters). The order depends
only on the seed and the epoch, so a resumed run reads what the whole run would have.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


# --------------------------------------------------------------------------- splits and batches
def split(ids: np.ndarray, val_frac: float, test_frac: float):
    """Contiguous (train, val, test) slices: train first, test at the very end."""
    n = len(ids)
    n_val, n_test = int(n * val_frac), int(n * test_frac)
    n_train = n - n_val - n_test
    return ids[:n_train], ids[n_train : n_train + n_val], ids[n_train + n_val :]


@dataclass(frozen=True)
class Layout:
    """B streams of L input steps over `n` ids, walked in windows of T steps; contiguous streams,
    or shuffled chunks of K windows each (see module doc)."""

    n: int
    batch_size: int
    seq_len: int
    chunk_windows: int = 0  # K; 0 = contiguous streams
    seed: int = 0

    @property
    def chunk_chars(self) -> int:
        return self.chunk_windows * self.seq_len

    @property
    def num_chunks(self) -> int:
        return (self.n - 1) // self.chunk_chars if self.chunk_windows else 0

    @property
    def chunks_per_stream(self) -> int:
        return self.num_chunks // self.batch_size

    @property
    def stream_len(self) -> int:  # L
        if self.chunk_windows:
            return self.chunks_per_stream * self.chunk_chars
        return (self.n - 1) // self.batch_size

    @property
    def num_windows(self) -> int:
        return -(-self.stream_len // self.seq_len)

    @property
    def chars_per_epoch(self) -> int:
        return self.stream_len * self.batch_size


def layout_for(n: int, batch_size: int, seq_len: int, chunk_len: int, seed: int) -> Layout:
    """Shuffled chunks of about `chunk_len` characters when the text holds at least one per
    stream; contiguous streams when chunk_len is 0 or the text is too short."""
    if chunk_len:
        shuffled = Layout(n, batch_size, seq_len, max(1, round(chunk_len / seq_len)), seed)
        if shuffled.chunks_per_stream >= 1:
            return shuffled
    return Layout(n, batch_size, seq_len)


@functools.lru_cache(maxsize=2)
def _chunk_order(layout: Layout, epoch: int) -> np.ndarray:
    """(B, chunks per stream): which chunk each stream reads j-th in this epoch."""
    rng = np.random.default_rng([layout.seed, epoch])
    used = layout.batch_size * layout.chunks_per_stream
    return rng.permutation(layout.num_chunks)[:used].reshape(layout.batch_size, -1).astype(np.int64)


def window(ids: np.ndarray, layout: Layout, w: int, rows: slice = slice(None), epoch: int = 0):
    """(x, y) int64 arrays of shape (B, T_w) for window w of the given epoch; `rows` picks a
    subset of the streams (each distributed rank owns a disjoint slice of rows)."""
    L, T = layout.stream_len, layout.seq_len
    if layout.chunk_windows:
        j, k = divmod(w, layout.chunk_windows)
        starts = _chunk_order(layout, epoch)[rows, j] * layout.chunk_chars + k * T
        t_w = T
    else:
        t_w = min(T, L - w * T)
        starts = (np.arange(layout.batch_size, dtype=np.int64) * L)[rows] + w * T
    idx = starts[:, None] + np.arange(t_w + 1, dtype=np.int64)  # (B, T_w + 1)
    xy = np.asarray(ids[idx], dtype=np.int64)
    return xy[:, :-1], xy[:, 1:]
