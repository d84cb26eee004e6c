import numpy as np
import torch

from charrnn.inspection import activations, features, unitsearch
from charrnn.model.cells import CELLS
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN


def test_best_threshold_finds_the_separating_cut():
    a = np.array([0.1, 0.2, 0.9, 0.8, 0.15, 0.95])
    on = np.array([0, 0, 1, 1, 0, 1], bool)
    acc, thr, above = unitsearch.best_threshold(a, on)
    assert acc == 1.0 and above and 0.2 < thr < 0.8
    acc, thr, above = unitsearch.best_threshold(-a, on)  # the same unit, sign flipped
    assert acc == 1.0 and not above


def _chunks_from(values: np.ndarray):
    """A chunk source whose single quantity 'h' is `values` (L, T, H)."""
    return unitsearch.in_memory({"h": values}, np.zeros((values.shape[1], 2)))


def test_ranking_puts_the_planted_unit_first():
    rng = np.random.default_rng(0)
    text = 'ab "cd" ef "ghij" k ' * 20
    quotes = features.compute("quotes", text).astype(np.float64)
    h = rng.normal(0, 0.3, (2, len(text), 6))
    h[1, :, 4] = 0.9 * quotes - 0.4 + rng.normal(0, 0.05, len(text))  # the quote unit
    ranking = unitsearch.rank_units(_chunks_from(h), text, ["quotes"], top=3)
    best = ranking["quotes"][0]
    assert (best.layer, best.unit, best.quantity) == (1, 4, "h")
    assert best.r > 0.95 and best.accuracy > 0.97
    assert abs(ranking["quotes"][1].r) < 0.5


def test_streamed_and_in_memory_rankings_agree():
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=5, embed_size=3, hidden_size=8, num_layers=2))
    ids = np.random.default_rng(1).integers(0, 5, 300)
    text = "".join("ab(c)"[i] for i in ids)
    arrays, probs = activations.collect(model, ids)
    a = unitsearch.rank_units(unitsearch.in_memory(arrays, probs), text, ["brackets"], top=5)
    b = unitsearch.rank_units(
        unitsearch.streamed(model, ids, chunk_len=64), text, ["brackets"], top=5
    )
    assert [(s.layer, s.unit, s.quantity) for s in a["brackets"]] == [
        (s.layer, s.unit, s.quantity) for s in b["brackets"]
    ]
    np.testing.assert_allclose(
        [s.r for s in a["brackets"]], [s.r for s in b["brackets"]], atol=1e-6
    )


def test_match_span_finds_units_and_other_places():
    steps = 100
    h = np.full((1, steps, 5), -0.5)
    for s in (20, 60):  # units 1 and 3 fire together twice
        h[0, s : s + 6, [1, 3]] = 0.8
    h[0, 20:26, 2] = 0.8
    h[0, 10:40, 2] = 0.8  # on over the span but also around it: not specific
    result = unitsearch.match_span(h, 20, 26, threshold=0.3)
    assert set(result.units) == {(0, 1), (0, 3)}
    assert result.matches[0][:2] == (60, 66)


def test_saturation_fractions():
    f = np.array([[[0.05, 0.5], [0.95, 0.5], [0.02, 0.99], [0.5, 0.5]]])  # (1, 4, 2)
    chunks = unitsearch.in_memory({"f": f, "i": f, "o": f}, np.zeros((4, 2)))
    sat = unitsearch.saturation(chunks, CELLS["lstm"])
    left, right = sat["f"]
    np.testing.assert_allclose(left[0], [0.5, 0.0])
    np.testing.assert_allclose(right[0], [0.25, 0.25])
    assert set(sat) == {"i", "f", "o"}
