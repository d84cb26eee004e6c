"""Character n-gram models with interpolated modified Kneser-Ney smoothing (Chen & Goodman
1998, section 3.2 and 4.1.6), any order from 1 to 20: the baseline `charrnn ngram` builds and
`eval`, `sample` and `compare` read like a trained run.

Counts come from a 64-bit hash of every n-gram of the training ids, built one order at a time
with numpy (sorting, no Python object per n-gram): the hash of the n-gram ending at position i
is mix(hash of the (n-1)-gram ending at i-1, id i), so the key of "context h, next symbol w" is
computed the same way at query time, for the one symbol that came or for all of them at once.

The conventions, which tests/test_ngram.py's brute-force model follows too:
- an order-M model interpolates levels 1..M down to the uniform distribution over the
  vocabulary; level M uses raw counts, levels below it continuation counts (the number of
  distinct symbols seen just before the n-gram);
- each level and kind has its own three discounts D1, D2, D3+ from its count-of-counts
  (D_k = k - (k+1) Y n_{k+1} / n_k, Y = n_1 / (n_1 + 2 n_2)), clipped to [0, k];
- a context never seen at a level passes its whole mass to the level below;
- a position with fewer than M-1 characters of history uses the levels it has; its top one
  then reads continuation counts (it is a lower-order distribution of the order-M model).

Memory: per order kept, about 22 bytes per distinct n-gram (the key, its count and, for the
order above, its statistics as a context).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ORDER = 20
_EMPTY = np.uint64(0x9E3779B97F4A7C15)  # the hash of the empty context
_MUL = np.uint64(0xD6E8FEB86659FD93)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijection on uint64 that scatters nearby inputs."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def extend(context: np.ndarray, symbol) -> np.ndarray:
    """The key of `symbol` after `context` (arrays broadcast)."""
    with np.errstate(over="ignore"):
        return _mix(np.asarray(context, np.uint64) * _MUL + np.asarray(symbol, np.uint64)
                    + np.uint64(1))  # fmt: skip


def gram_hashes(ids: np.ndarray, order: int):
    """Yields (n, H) for n = 1..order: H[i] is the hash of the n-gram ending at position i
    (meaningful for i >= n-1)."""
    ids = np.asarray(ids, np.uint64)
    context = np.full(len(ids), _EMPTY, np.uint64)  # order 1: the empty context everywhere
    for n in range(1, order + 1):
        current = extend(context, ids)
        yield n, current
        context = np.empty_like(current)  # the (n)-gram ending just before each position
        context[1:] = current[:-1]
        context[:1] = 0  # no n-gram ends before the first position


@dataclass
class Level:
    """One order's n-grams: sorted keys, their counts (raw at the model's top level,
    continuation below) and, as contexts of the level above, their statistics there."""

    keys: np.ndarray  # uint64, sorted
    counts: np.ndarray  # int64
    context_keys: np.ndarray  # uint64 sorted: the contexts (the (n-1)-grams seen before a key)
    context_total: np.ndarray  # sum of counts following each context
    context_gamma: np.ndarray  # D1 N1 + D2 N2 + D3 N3+ of each context
    discounts: tuple[float, float, float]

    def count(self, keys: np.ndarray) -> np.ndarray:
        return _lookup(self.keys, self.counts, keys)

    def context(self, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(total, gamma) of each context (0, 0 where never seen)."""
        return (_lookup(self.context_keys, self.context_total, contexts),
                _lookup(self.context_keys, self.context_gamma, contexts))  # fmt: skip

    def discount(self, counts: np.ndarray) -> np.ndarray:
        d1, d2, d3 = self.discounts
        return np.select([counts == 0, counts == 1, counts == 2], [0.0, d1, d2], d3)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.keys, self.counts, self.context_keys,
                                      self.context_total, self.context_gamma))  # fmt: skip


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    if len(keys) == 0:
        return np.zeros(np.shape(query), values.dtype)
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[at] == query, values[at], 0)


def discounts_of(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified Kneser-Ney's D1, D2, D3+ from the count-of-counts n1..n4 (Chen & Goodman eq.
    26), each clipped to [0, k]; 0.5, 1, 1.5 where the counts are too few to say."""
    n = [int(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4)]
    fallback = (0.5, 1.0, 1.5)
    if n[0] == 0 or n[1] == 0:
        return fallback
    y = n[0] / (n[0] + 2 * n[1])
    out = []
    for k in (1, 2, 3):
        d = k - (k + 1) * y * n[k] / n[k - 1] if n[k - 1] else fallback[k - 1]
        out.append(float(min(max(d, 0.0), float(k))))
    return tuple(out)


class NGram:
    """An order-`order` model over `vocab_size` symbols, counted from `ids`; `levels` from a
    larger build can be shared (see `orders`)."""

    def __init__(self, ids, order: int, vocab_size: int, levels=None):
        if not 1 <= order <= MAX_ORDER:
            raise ValueError(f"order must be 1 to {MAX_ORDER}")
        self.order, self.vocab_size = order, vocab_size
        self.levels = levels if levels is not None else count_levels(np.asarray(ids), order,
                                                                     raw_at={order})  # fmt: skip

    @classmethod
    def orders(cls, ids, max_order: int, vocab_size: int) -> dict[int, NGram]:
        """Every order from 1 to `max_order`, counted once (for choosing the order)."""
        levels = count_levels(np.asarray(ids), max_order, raw_at=set(range(1, max_order + 1)))
        return {m: cls(None, m, vocab_size, levels[:m]) for m in range(1, max_order + 1)}

    @property
    def nbytes(self) -> int:
        return sum(lv.nbytes for pair in self.levels for lv in pair if lv is not None)

    def _level(self, n: int) -> Level:
        raw, kn = self.levels[n - 1]
        return raw if n == self.order else kn

    # ------------------------------------------------------------------ scoring
    def target_probs(self, ids: np.ndarray, history: np.ndarray | None = None) -> np.ndarray:
        """(T,) the probability of each symbol of `ids` given the `history[t]` symbols before
        it (default: all those before it within `ids`; the first has none and gets the
        lowest level's distribution)."""
        ids = np.asarray(ids)
        T = len(ids)
        history = np.arange(T) if history is None else np.asarray(history)
        p = np.full(T, 1.0 / self.vocab_size)
        context = np.full(T, _EMPTY, np.uint64)
        for n, H in gram_hashes(ids, self.order):
            usable = history >= n - 1
            p = np.where(usable, _interpolate(self._level(n), H, context, p), p)
            context = np.empty_like(H)
            context[1:], context[:1] = H[:-1], 0
        return p

    def all_probs(self, ids: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """(T, V): the distribution before each symbol of `ids` (given all those before it),
        for pages and comparisons; the row at t is `distribution(ids[:t])`."""
        ids = np.asarray(ids)
        out = np.empty((len(ids), self.vocab_size))
        symbols = np.arange(self.vocab_size, dtype=np.uint64)[None, :]
        contexts = [np.full(len(ids), _EMPTY, np.uint64)]  # level n's context at each t
        for _n, H in gram_hashes(ids, self.order - 1):
            shifted = np.empty_like(H)
            shifted[1:], shifted[:1] = H[:-1], 0
            contexts.append(shifted)
        history = np.arange(len(ids))
        for s in range(0, len(ids), chunk):
            e = min(s + chunk, len(ids))
            p = np.full((e - s, self.vocab_size), 1.0 / self.vocab_size)
            for n in range(1, self.order + 1):
                ctx = np.repeat(contexts[n - 1][s:e, None], self.vocab_size, axis=1)
                usable = (history[s:e] >= n - 1)[:, None]
                p = np.where(usable, _interpolate(self._level(n), extend(ctx, symbols), ctx, p), p)
            out[s:e] = p
        return out

    def distribution(self, history) -> np.ndarray:
        """(V,) the next symbol's distribution after `history` (of which the last order-1
        symbols count)."""
        history = [int(s) for s in history][max(0, len(history) - (self.order - 1)) :]
        if self.order == 1:
            history = []
        symbols = np.arange(self.vocab_size, dtype=np.uint64)
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for n in range(1, len(history) + 2):
            context = _EMPTY
            for s in history[len(history) - (n - 1) :] if n > 1 else []:
                context = extend(context, s)
            contexts = np.full(self.vocab_size, context, np.uint64)
            p = _interpolate(self._level(n), extend(contexts, symbols), contexts, p)
        return p


def _interpolate(level: Level, keys, contexts, lower: np.ndarray) -> np.ndarray:
    counts = level.count(keys)
    total, gamma = level.context(contexts)
    seen = total > 0
    safe_total = np.where(seen, total, 1)
    own = np.maximum(counts - level.discount(counts), 0.0) / safe_total
    return np.where(seen, own + gamma / safe_total * lower, lower)


def count_levels(ids: np.ndarray, order: int, raw_at: set[int]) -> list[tuple]:
    """For each n = 1..order: (its raw-count level if n is in `raw_at`, else None; its
    continuation-count level, for n < order, else None)."""
    found = []  # per n: (sorted keys, raw counts, the context hash of each key)
    kn_of = []
    previous = None
    for n, H in gram_hashes(ids, order):
        keys, first, raw = np.unique(H[n - 1 :], return_index=True, return_counts=True)
        first = first + (n - 1)
        context = np.full(len(keys), _EMPTY, np.uint64) if n == 1 else previous[first - 1]
        if n > 1:  # the (n-1)-grams' continuation counts: their distinct left extensions
            below = found[-1][0]
            at = np.searchsorted(below, previous[first])
            kn_of.append(np.bincount(at, minlength=len(below))[: len(below)].astype(np.int64))
        found.append((keys, raw.astype(np.int64), context))
        previous = H
    levels = []
    for n, (keys, raw, context) in enumerate(found, start=1):
        raw_level = _level(keys, raw, context) if n in raw_at else None
        kn_level = _level(keys, kn_of[n - 1], context) if n < order else None
        levels.append((raw_level, kn_level))
    return levels


def _level(keys: np.ndarray, counts: np.ndarray, context: np.ndarray) -> Level:
    present = counts > 0
    d = discounts_of(counts[present])
    ctx_keys, inverse = np.unique(context[present], return_inverse=True)
    c = counts[present]
    total = np.bincount(inverse, weights=c, minlength=len(ctx_keys)).astype(np.int64)
    gamma = (d[0] * np.bincount(inverse, weights=c == 1, minlength=len(ctx_keys))
             + d[1] * np.bincount(inverse, weights=c == 2, minlength=len(ctx_keys))
             + d[2] * np.bincount(inverse, weights=c >= 3, minlength=len(ctx_keys)))  # fmt: skip
    return Level(keys, counts, ctx_keys, total, gamma, d)


def bits(probs: np.ndarray) -> np.ndarray:
    return -np.log2(probs)


def nats_mean(probs: np.ndarray) -> float:
    return float(-np.mean(np.log(probs))) if len(probs) else math.nan
