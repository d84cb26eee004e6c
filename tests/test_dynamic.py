"""Dynamic evaluation and the neural cache: a fair figure (no character is predicted by anything
that has seen it), the caller's weights untouched, nothing adapted equals the static figure, and
adapting or copying lowers the loss on text that repeats itself."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from charrnn.inference.cache import CacheConfig
from charrnn.inference.dynamic import DynamicConfig, dynamic_loss_sums
from charrnn.inference.evaluate import carried_loss_sums, char_losses
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN

NO_CACHE = CacheConfig(size=0)
STILL = DynamicConfig(rule="none")


def _model(cell="lstm", vocab=12, seed=0):
    torch.manual_seed(seed)
    return CharRNN(ModelConfig(vocab_size=vocab, cell=cell, embed_size=8, hidden_size=16))


def _repeating_ids(vocab=12, period=40, n=1200, seed=0):
    """A random string of `period` characters, repeated: a static model cannot know it, a model
    that adapts or copies learns it after the first pass."""
    rng = random.Random(seed)
    unit = [rng.randrange(vocab) for _ in range(period)]
    return np.array((unit * (n // period + 1))[:n])


def _losses(model, ids, cfg, cache):
    out = np.zeros(len(ids))
    (total, count), _ = dynamic_loss_sums(model, ids, None, cfg, cache, losses_out=out)
    return out, total / count


def test_nothing_adapted_and_no_cache_is_the_static_figure():
    model, ids = _model(), _repeating_ids()
    (static, count), _ = carried_loss_sums(model, ids)
    losses, mean = _losses(model, ids, STILL, NO_CACHE)
    assert mean == pytest.approx(static / count, rel=1e-6)
    bits, _ = char_losses(model, ids)
    np.testing.assert_allclose(losses[1:] / np.log(2), bits[1:], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_the_first_segment_is_scored_before_any_step(cell):
    model, ids = _model(cell), _repeating_ids()
    bits, _ = char_losses(model, ids)
    losses, _ = _losses(model, ids, DynamicConfig(rule="sgd", lr=1.0, segment=30), NO_CACHE)
    np.testing.assert_allclose(losses[1:31] / np.log(2), bits[1:31], rtol=1e-5, atol=1e-6)
    assert not np.allclose(losses[31:61] / np.log(2), bits[31:61], rtol=1e-3)  # it did adapt


@pytest.mark.parametrize("rule", ["rms", "sgd"])
def test_the_callers_weights_never_change(rule):
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    _losses(model, _repeating_ids(), DynamicConfig(rule=rule, segment=16), CacheConfig())
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not model.training or model.training == CharRNN(model.config).training


@pytest.mark.parametrize(
    "cfg, cache, ratio",
    [
        (DynamicConfig(rule="rms", lr=3e-2, segment=20), NO_CACHE, 0.8),
        (DynamicConfig(rule="sgd", lr=1.0, segment=20), NO_CACHE, 0.8),
        # an untrained model's state is a blunt key: the cache copies less well than a trained one
        (STILL, CacheConfig(size=200, theta=20.0, weight=0.5), 0.85),
    ],  # fmt: skip
    ids=["rms", "sgd", "cache"],
)
def test_adapting_or_copying_learns_what_repeats(cfg, cache, ratio):
    model, ids = _model(), _repeating_ids()
    (static, count), _ = carried_loss_sums(model, ids)
    losses, mean = _losses(model, ids, cfg, cache)
    assert mean < ratio * static / count
    # the gain is on the repeats, not on the first pass
    assert losses[-400:].mean() < (ratio - 0.05) * losses[1:40].mean()


def test_no_character_is_predicted_by_anything_that_has_seen_it():
    """Change one character: the losses before it are the same, adapting and copying included."""
    model, ids = _model(), _repeating_ids(n=600)
    changed = ids.copy()
    changed[333] = (ids[333] + 1) % 12
    cfg, cache = DynamicConfig(rule="rms", lr=3e-3, segment=16), CacheConfig(size=100)
    a, _ = _losses(model, ids, cfg, cache)
    b, _ = _losses(model, changed, cfg, cache)
    np.testing.assert_array_equal(a[:333], b[:333])
    assert a[333] != b[333]


def test_a_cache_smaller_than_a_segment_still_scores_every_character():
    model, ids = _model(), _repeating_ids(n=300)
    losses, mean = _losses(model, ids, DynamicConfig(rule="none", segment=64), CacheConfig(size=10))
    assert np.isfinite(losses).all() and (losses[1:] > 0).all()
    full, _ = _losses(model, ids, DynamicConfig(rule="none", segment=5), CacheConfig(size=10))
    # what row t sees differs with the segment (the memory plus the segment's own rows), so the
    # figures differ a little; both are a mixture over at most 10 + segment remembered rows
    assert abs(mean - full[1:].mean()) < 0.5


def test_options_are_checked():
    with pytest.raises(Exception, match="--dynamic-rule"):
        DynamicConfig(rule="adam")
    with pytest.raises(Exception, match="--dynamic-lr"):
        DynamicConfig(lr=0.0)
    with pytest.raises(Exception, match="--cache-weight"):
        CacheConfig(weight=1.0)
    assert DynamicConfig(rule="sgd").lr == 0.3


def test_eval_dynamic_reports_both_figures(cli, run_dir):
    run, corpus = run_dir
    code, out, err = cli("eval", run, corpus, "--dynamic", "--dynamic-segment", "32")
    assert code == 0, err
    static, dynamic = out.strip().splitlines()
    assert "static: read once" in static and "dynamic: read once" in dynamic
    assert "32-character segment" in dynamic and "neural cache of the last 10,000" in dynamic
    code, out, _ = cli("eval", run, corpus, "--dynamic", "--json", "--cache-size", "0")
    found = json.loads(out)
    assert found["protocol"] == "carried" and found["dynamic"]["protocol"] == "dynamic"
    assert found["dynamic"]["cache"]["size"] == 0 and found["dynamic"]["rule"] == "rms"
    assert found["dynamic"]["chars"] == found["chars"]
    code, plain, _ = cli("eval", run, corpus, "--json")
    assert json.loads(plain)["bpc"] == pytest.approx(found["bpc"])  # the static figure unmixed
    assert "dynamic" not in json.loads(plain)


def test_eval_dynamic_refusals(cli, run_dir, tmp_path):
    run, corpus = run_dir
    code, _, err = cli("eval", run, corpus, "--dynamic", "--fresh-windows")
    assert code != 0 and "leave out --fresh-windows" in err and "Traceback" not in err
    code, _, err = cli("eval", run, corpus, "--dynamic", "--dynamic-lr", "-1")
    assert code != 0 and "--dynamic-lr" in err
    ngram = tmp_path / "c.ngram"
    assert cli("ngram", corpus, "--order", "3", "--out", ngram)[0] == 0
    code, _, err = cli("eval", ngram, corpus, "--dynamic")
    assert code != 0 and "n-gram" in err


def test_the_python_api_reports_dynamic_beside_static(run_dir):
    import charrnn
    from charrnn.errors import ConfigError

    run, corpus = run_dir
    m = charrnn.load(run)
    text = corpus.read_text(encoding="utf-8")[:2000]
    plain = m.loss(text)
    both = m.loss(text, dynamic=True, dynamic_segment=32, cache_size=500)
    assert plain.dynamic is None and both.bpc == pytest.approx(plain.bpc)
    assert both.dynamic.chars == plain.chars and both.dynamic.bpc != plain.bpc
    assert "32-character segment" in both.dynamic.how and "500 characters" in both.dynamic.how
    with pytest.raises(ConfigError, match="dynamic_lr=0 is out of range"):
        m.loss(text, dynamic=True, dynamic_lr=0)
    with pytest.raises(ConfigError, match="did you mean 'dynamic_segment'"):
        m.loss(text, dynamic=True, dynamic_segmnt=3)


def test_a_model_adapted_to_a_prime_has_learned_it_and_the_original_has_not():
    from charrnn.inference.dynamic import adapted_to

    model, ids = _model(), _repeating_ids()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    adapted = adapted_to(model, ids, DynamicConfig(rule="rms", lr=3e-2, segment=20))
    (static, n), _ = carried_loss_sums(model, ids[:400])
    (after, _), _ = carried_loss_sums(adapted, ids[:400])
    assert after < 0.7 * static
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_sample_adapt(cli, run_dir, tmp_path):
    run, corpus = run_dir
    prime = tmp_path / "prime.txt"
    prime.write_text(corpus.read_text(encoding="utf-8")[:1500], encoding="utf-8")
    args = ("sample", run, "--prime-file", prime, "--adapt", "--seed", "3", "--length", "80")
    code, first, err = cli(*args)
    assert code == 0, err
    assert first.startswith(prime.read_text(encoding="utf-8")) and len(first) >= 1500 + 80
    assert cli(*args)[1] == first  # the seed repeats it
    code, _, err = cli("sample", run, "--adapt", "--length", "5")
    assert code != 0 and "--adapt needs a prime" in err
