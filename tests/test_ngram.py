"""The n-gram baseline: distributions that sum to 1, a worked Kneser-Ney example by hand, order
1 as the smoothed unigram, agreement with a brute-force model written from the definitions, and
the file: `eval`, `sample` and `--order auto` as for a run, never unpickled."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import numpy as np
import pytest

from charrnn.inference import ngramfile
from charrnn.inference.ngram import NGram, discounts_of
from tests.conftest import make_text


def _ids(text: str):
    symbols = sorted(set(text))
    return np.array([symbols.index(c) for c in text]), len(symbols)


def test_a_worked_example_by_hand():
    # "aabab", order 2. Bigrams aa:1 ab:2 ba:1 -> n1=2, n2=1, Y=1/2, D1=1/2, D2=2 (D3: no n3, 1.5).
    # Context a: total 3, gamma = 1/2*1 + 2*1 = 5/2; context b: total 1, gamma = 1/2.
    # Level 1 by continuation counts: a is seen after a and b (2), b after a (1): n1=n2=1,
    # Y=1/3, D1=1/3, D2=2; total 3, gamma = 1/3 + 2 = 7/3, so with the uniform 1/2 below:
    # P1(a) = 0/3 + 7/9 * 1/2 = 7/18, P1(b) = (2/3)/3 + 7/18 = 11/18;
    # P(a|a) = (1/2)/3 + 5/6 * 7/18 = 53/108, P(b|a) = 5/6 * 11/18 = 55/108;
    # P(a|b) = 1/2 + 1/2 * 7/18 = 25/36, P(b|b) = 1/2 * 11/18 = 11/36.
    ids, V = _ids("aabab")
    m = NGram(ids, 2, V)
    np.testing.assert_allclose(m.distribution([]), [7 / 18, 11 / 18])
    np.testing.assert_allclose(m.distribution([0]), [53 / 108, 55 / 108])
    np.testing.assert_allclose(m.distribution([1]), [25 / 36, 11 / 36])
    np.testing.assert_allclose(m.target_probs(ids), [7 / 18, 53 / 108, 55 / 108, 25 / 36, 55 / 108])


def test_order_one_is_the_smoothed_unigram():
    text = make_text(30)
    ids, V = _ids(text)
    counts = np.bincount(ids, minlength=V)
    d1, d2, d3 = discounts_of(counts)
    discount = np.select([counts == 1, counts == 2], [d1, d2], d3)
    gamma = d1 * (counts == 1).sum() + d2 * (counts == 2).sum() + d3 * (counts >= 3).sum()
    expected = (np.maximum(counts - discount, 0) + gamma / V) / counts.sum()
    np.testing.assert_allclose(NGram(ids, 1, V).distribution([]), expected)


@pytest.mark.parametrize("order", [1, 2, 3, 6, 20])
def test_every_distribution_sums_to_one(order):
    ids, V = _ids(make_text(40, seed=3))
    m = NGram(ids[:2000], order, V)
    rng = np.random.default_rng(0)
    for length in (0, 1, 2, 5, 19, 40):
        history = rng.integers(0, V, length)  # mostly never seen: every back-off path
        assert m.distribution(history).sum() == pytest.approx(1.0, abs=1e-12)
        assert m.distribution(ids[100 : 100 + length]).sum() == pytest.approx(1.0, abs=1e-12)
    probs = m.all_probs(ids[2000:2300])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)


class BruteForce:
    """Interpolated modified Kneser-Ney from the definitions, with dictionaries and fractions."""

    def __init__(self, text: str, order: int, symbols: str):
        self.order, self.symbols = order, symbols
        grams = {n: Counter(text[i - n + 1 : i + 1] for i in range(n - 1, len(text)))
                 for n in range(1, order + 1)}  # fmt: skip
        self.counts = {order: grams[order]}
        for n in range(1, order):  # continuation counts: distinct symbols seen before
            self.counts[n] = Counter(g[1:] for g in grams[n + 1])
        self.discounts = {n: discounts_of(np.array(list(c.values())))
                          for n, c in self.counts.items()}  # fmt: skip
        self.by_context = {n: defaultdict(dict) for n in self.counts}
        for n, c in self.counts.items():
            for g, k in c.items():
                self.by_context[n][g[:-1]][g[-1]] = k

    def prob(self, history: str, w: str) -> float:
        top = min(self.order, len(history) + 1)
        p = 1 / len(self.symbols)
        for n in range(1, top + 1):
            context = history[len(history) - (n - 1) :] if n > 1 else ""
            followers = self.by_context[n].get(context, {})
            total = sum(followers.values())
            if total == 0:
                continue
            d1, d2, d3 = self.discounts[n]
            d = {1: d1, 2: d2}
            k = followers.get(w, 0)
            own = max(k - (d.get(k, d3) if k else 0), 0) / total
            gamma = sum(d.get(v, d3) for v in followers.values()) / total
            p = own + gamma * p
        return p


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_agrees_with_a_brute_force_model(order):
    text = make_text(12, seed=5)
    symbols = "".join(sorted(set(text)))
    ids, V = _ids(text)
    cut = len(text) * 3 // 4
    fast = NGram(ids[:cut], order, V)
    slow = BruteForce(text[:cut], order, symbols)
    for t in range(cut, len(text), 7):
        history = text[cut:t]  # scored as eval reads a file: history within the scored text
        expected = [slow.prob(history[-(order - 1) :] if order > 1 else "", w) for w in symbols]
        got = fast.distribution(ids[cut:t])
        np.testing.assert_allclose(got, expected, rtol=1e-9, err_msg=f"at {t}")


def test_the_file_is_a_model_like_a_run(cli, tmp_path):
    train = tmp_path / "train.txt"
    train.write_text(make_text(150), encoding="utf-8")
    held = tmp_path / "held.txt"
    held.write_text(make_text(20, seed=9) + "\r\n", encoding="utf-8", newline="")
    model = tmp_path / "m.ngram"
    code, out, err = cli("ngram", train, "--order", "auto", "--out", model, "--json")
    built = json.loads(out)
    assert code == 0 and str(built["order"]) == min(built["auto_bpc"], key=built["auto_bpc"].get)
    code, out, err = cli("eval", model, held, "--json")
    figure = json.loads(out)
    loaded = ngramfile.load(model)
    text = held.read_bytes().decode("utf-8")
    probs = loaded.model.target_probs(loaded.vocab.encode(text.replace("\r", " ")))
    known = np.array([c != "\r" for c in text])
    known[0] = False
    assert code == 0 and figure["bpc"] == pytest.approx(-np.log2(probs[known]).mean())
    assert figure["unknown"]["count"] == 1 and figure["chars"] == known.sum()
    page = tmp_path / "surprise.html"
    assert cli("eval", model, held, "--html", page)[0] == 0
    assert f"{loaded.order}-gram" in page.read_text(encoding="utf-8")
    one = cli("sample", model, "--prime", "alpha", "-n", "40", "--seed", "3")
    two = cli("sample", model, "--prime", "alpha", "-n", "40", "--seed", "3")
    assert one[0] == 0 and one[1] == two[1] and one[1].startswith("alpha") and len(one[1]) > 40
    code, _, err = cli("inspect", model, "--text", "alpha", "--find", "all")
    assert code == 1 and "an n-gram model" in err and "Traceback" not in err
    code, _, err = cli("ngram", train, "--order", "21", "--out", tmp_path / "x.ngram")
    assert code == 1 and "--order 21" in err
    model.write_bytes(model.read_bytes()[:-10])  # truncated: one line, nothing unpickled
    code, _, err = cli("eval", model, held)
    assert code == 1 and len(err.strip().splitlines()) == 1
