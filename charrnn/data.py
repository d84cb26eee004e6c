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
"""

from __future__ import annotations

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
    """B streams of L input steps over `n` ids, walked in windows of T steps (see module doc)."""

    n: int
    batch_size: int
    seq_len: int

    @property
    def stream_len(self) -> int:  # L
        return (self.n - 1) // self.batch_size

    @property
    def num_windows(self) -> int:
        return -(-self.stream_len // self.seq_len)

    @property
    def chars_per_epoch(self) -> int:
        return self.stream_len * self.batch_size


def window(ids: np.ndarray, layout: Layout, w: int, rows: slice = slice(None)):
    """(x, y) int64 arrays of shape (B, T_w) for window w; `rows` picks a subset of the streams
    (each distributed rank owns a disjoint slice of rows)."""
    L, T = layout.stream_len, layout.seq_len
    t0 = w * T
    t_w = min(T, L - t0)
    starts = (np.arange(layout.batch_size, dtype=np.int64) * L)[rows]
    idx = starts[:, None] + t0 + np.arange(t_w + 1, dtype=np.int64)  # (B, T_w + 1)
    xy = np.asarray(ids[idx], dtype=np.int64)
    return xy[:, :-1], xy[:, 1:]
