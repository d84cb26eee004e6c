"""Finding interpretable units: rank units by how well they follow a text feature, match the
units that are on over a span (as in LSTMVis), and gate saturation statistics (Karpathy et al.
2015, Figure 3).

Ranking streams over the text in chunks (activations.iter_chunks) accumulating the sums Pearson's
r needs, so memory does not grow with the text; a second pass collects only the top units' values
to find each one's best single threshold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from charrnn.inspection import activations, features

SATURATION_LOW, SATURATION_HIGH = 0.1, 0.9


@dataclass
class UnitScore:
    feature: str
    layer: int
    unit: int
    quantity: str
    r: float
    accuracy: float  # of the best single threshold predicting the (binarised) feature
    threshold: float
    above_means_on: bool  # True: activation > threshold predicts the feature is on
    base_rate: float  # share of characters where the binarised feature is on

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


class _Moments:
    """Running sums for r between every unit of every quantity and one feature."""

    def __init__(self, values: np.ndarray):
        self.f = values.astype(np.float64)
        self.n = 0
        self.sf = self.sff = 0.0
        self.sa, self.saa, self.saf = {}, {}, {}

    def add(self, chunk: activations.Chunk) -> None:
        t = next(iter(chunk.arrays.values())).shape[1]
        f = self.f[chunk.start : chunk.start + t]
        self.n += t
        self.sf += f.sum()
        self.sff += (f * f).sum()
        for q, a in chunk.arrays.items():  # a: (L, T, H)
            a = a.astype(np.float64)
            if q not in self.sa:
                self.sa[q] = self.saa[q] = self.saf[q] = 0.0
            self.sa[q] = self.sa[q] + a.sum(1)
            self.saa[q] = self.saa[q] + (a * a).sum(1)
            self.saf[q] = self.saf[q] + np.einsum("lth,t->lh", a, f)

    def r(self) -> dict:
        """{quantity: (L, H) Pearson r}; 0 where a unit or the feature is constant."""
        n, out = self.n, {}
        var_f = n * self.sff - self.sf**2
        for q in self.sa:
            cov = n * self.saf[q] - self.sa[q] * self.sf
            var_a = n * self.saa[q] - self.sa[q] ** 2
            denom = np.sqrt(np.maximum(var_a, 0) * max(var_f, 0))
            out[q] = np.where(denom > 1e-12, cov / np.where(denom > 1e-12, denom, 1), 0.0)
        return out


def binarise(values: np.ndarray) -> np.ndarray:
    """The feature as on/off: itself if binary, else above its median."""
    if features.is_binary(values):
        return values > 0.5
    return values > np.median(values)


def best_threshold(a: np.ndarray, on: np.ndarray) -> tuple[float, float, bool]:
    """(accuracy, threshold, above_means_on) of the best rule `a > t` (or `a <= t`) for `on`."""
    order = np.argsort(a, kind="stable")
    a_sorted, on_sorted = a[order], on[order].astype(np.int64)
    n, positives = len(a), int(on_sorted.sum())
    below_pos = np.concatenate([[0], np.cumsum(on_sorted)])  # positives among the k lowest
    k = np.arange(n + 1)
    correct_above = (k - below_pos) + (positives - below_pos)  # predict on when above the cut
    best_above, best_below = int(correct_above.argmax()), int((n - correct_above).argmax())
    if correct_above[best_above] >= n - correct_above[best_below]:
        k_best, above, correct = best_above, True, correct_above[best_above]
    else:
        k_best, above, correct = best_below, False, n - correct_above[best_below]
    lo = a_sorted[k_best - 1] if k_best > 0 else a_sorted[0] - 1
    hi = a_sorted[k_best] if k_best < n else a_sorted[-1] + 1
    return float(correct) / n, float((lo + hi) / 2), above


def streamed(model, ids: np.ndarray, layers=None, units=None, chunk_len: int = 4096, progress=None):
    """A chunk source that recomputes activations chunk by chunk on each pass (bounded memory),
    keeping the given layers and units (all by default); `progress(done, total)` per chunk."""

    def chunks():
        for chunk in activations.iter_chunks(model, ids, chunk_len, progress):
            chunk.arrays = activations.select(chunk.arrays, layers, units)
            yield chunk

    return chunks


def in_memory(arrays: dict, probs: np.ndarray):
    """A chunk source over activations already computed (`activations.collect`)."""
    return lambda: iter([activations.Chunk(0, arrays, probs)])


def rank_units(
    chunks, text: str, names: list[str], top: int = 10, quantities: list[str] | None = None
) -> dict:
    """{feature: [UnitScore, ...] best first} for each feature in `names`; `chunks` is a chunk
    source (`streamed` or `in_memory`), read twice. Layer and unit numbers index the arrays the
    source yields."""
    names = [features.canonical(n) for n in names]
    values = {n: features.compute(n, text) for n in names}
    moments = {n: _Moments(v) for n, v in values.items()}
    for chunk in chunks():
        arrays = _only(chunk.arrays, quantities)
        for m in moments.values():
            m.add(activations.Chunk(chunk.start, arrays, chunk.probs))
    candidates = {}
    for n, m in moments.items():
        if values[n].min() == values[n].max():  # constant here: no unit can follow it
            candidates[n] = []
            continue
        flat = [
            (abs(r), q, layer, unit, r)
            for q, rq in m.r().items()
            for (layer, unit), r in np.ndenumerate(rq)
        ]
        flat.sort(key=lambda x: -x[0])
        candidates[n] = flat[:top]
    wanted = {(q, layer, unit) for c in candidates.values() for _, q, layer, unit, _ in c}
    series = collect_units(chunks, wanted)
    ranking = {}
    for n, cands in candidates.items():
        on = binarise(values[n])
        ranking[n] = []
        for _, q, layer, unit, r in cands:
            acc, thr, above = best_threshold(series[(q, layer, unit)], on)
            ranking[n].append(
                UnitScore(n, layer, unit, q, float(r), acc, thr, above, float(on.mean()))
            )
    return ranking


def collect_units(chunks, wanted: set) -> dict:
    """{(quantity, layer, unit): (T,) values} for a few units, streaming over the text."""
    parts = {key: [] for key in wanted}
    for chunk in chunks():
        for q, layer, unit in wanted:
            parts[(q, layer, unit)].append(chunk.arrays[q][layer, :, unit])
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}


def _only(arrays: dict, quantities) -> dict:
    return arrays if not quantities else {q: a for q, a in arrays.items() if q in quantities}


# --------------------------------------------------------------------------- span matching
@dataclass
class SpanMatch:
    units: list  # [(layer, unit)] on over the span and off around it
    matches: list  # [(start, end, fraction of those units on)] elsewhere in the text


def match_span(
    h: np.ndarray,
    start: int,
    end: int,
    threshold: float = 0.3,
    pad: int | None = None,
    max_units: int = 10,
    max_matches: int = 10,
) -> SpanMatch:
    """h: (L, T, H) activations. Units whose value stays above `threshold` over [start, end)
    and is below it on average over `pad` characters either side; then the other spans where
    all of them are on together."""
    layers, steps, hidden = h.shape
    pad = pad or max(3, end - start)
    inside = h[:, start:end].min(axis=1)  # (L, H)
    around = np.concatenate([h[:, max(0, start - pad) : start], h[:, end : end + pad]], axis=1)
    outside = around.mean(axis=1) if around.shape[1] else np.full((layers, hidden), -np.inf)
    ok = (inside > threshold) & (outside < threshold)
    score = np.where(ok, inside - outside, -np.inf)
    order = np.argsort(-score, axis=None)[:max_units]
    units = [
        tuple(int(i) for i in np.unravel_index(k, score.shape))
        for k in order
        if np.isfinite(score.flat[k])
    ]
    if not units:
        return SpanMatch([], [])
    on = np.stack([h[layer, :, unit] > threshold for layer, unit in units])  # (U, T)
    all_on = on.all(axis=0)
    min_len = max(1, (end - start) // 2)
    spans, t = [], 0
    while t < steps:
        if all_on[t]:
            s = t
            while t < steps and all_on[t]:
                t += 1
            overlaps = s < end and t > start
            if t - s >= min_len and not overlaps:
                spans.append((s, t, float(on[:, s:t].mean())))
        t += 1
    spans.sort(key=lambda x: -(x[1] - x[0]))
    return SpanMatch(units, spans[:max_matches])


# --------------------------------------------------------------------------- gate saturation
def saturation(chunks, cell) -> dict:
    """{gate: (left, right)}, each (L, H): the fraction of characters each unit's gate is
    below 0.1 / above 0.9. Gates are the sigmoid gates of the cell kind (LSTM i, f, o; GRU r, z)."""
    gates = list(cell.saturating_gates)
    low = {g: 0.0 for g in gates}
    high = {g: 0.0 for g in gates}
    n = 0
    for chunk in chunks():
        gates = [g for g in gates if g in chunk.arrays]
        for g in gates:
            a = chunk.arrays[g]
            low[g] = low[g] + (a < SATURATION_LOW).sum(axis=1)
            high[g] = high[g] + (a > SATURATION_HIGH).sum(axis=1)
        n += chunk.probs.shape[0]
    return {
        g: (np.asarray(low[g]) / max(n, 1), np.asarray(high[g]) / max(n, 1)) for g in gates if n
    }
