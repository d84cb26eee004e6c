"""The yardsticks beside a model: compressors (their bits per character alone and given the
training text) and `charrnn compare`."""

from __future__ import annotations

import bz2
import json
import lzma
import random

import numpy as np
import pytest

from charrnn.inference.compressors import bits_per_char


def test_compressors_count_bits_per_character_of_the_text():
    rng = random.Random(0)
    text = "".join(rng.choice("ab") for _ in range(4000))
    alone = bits_per_char(text)
    assert set(alone) == {"gzip", "bz2", "xz"}
    assert alone["bz2"] == pytest.approx(8 * len(bz2.compress(text.encode())) / len(text))
    # a random choice of two letters needs about a bit each, and no compressor beats that
    assert all(0.95 < bits < 1.6 for bits in alone.values())


def test_given_the_training_text_a_repeat_is_nearly_free():
    rng = random.Random(1)
    train = "".join(rng.choice("abcdefgh") for _ in range(20000))
    repeat = train[5000:9000]
    given = bits_per_char(repeat, given=train)
    assert given["xz"] < 0.2 * bits_per_char(repeat)["xz"]
    expected = len(lzma.compress((train + repeat).encode())) - len(lzma.compress(train.encode()))
    assert given["xz"] == pytest.approx(8 * expected / len(repeat))
    # gzip's 32 KB window still holds this training text; it is the one that forgets
    assert given["gzip"] < 1.0


def test_characters_not_bytes_are_the_unit():
    text = "é" * 1000  # two bytes each in UTF-8
    assert bits_per_char(text)["xz"] == pytest.approx(8 * len(lzma.compress(text.encode())) / 1000)


# --------------------------------------------------------------------------- breakdowns
def test_closing_distances_match_brackets_and_quotes():
    from charrnn.inference.breakdown import closing_distances

    text = 'f(a, [b]) "xy" {\n}'
    d = closing_distances(text)
    assert d[text.index("]")] == 2 and d[text.index(")")] == 7
    assert d[text.index('"', 11)] == 3  # the second quote closes the first
    assert d[text.index("}")] == 2
    assert d[text.index("(")] == 0 and d[text.index('"')] == 0
    assert closing_distances("a)b")[1] == 0  # a stray closer closes nothing


def test_copies_and_word_positions():
    from charrnn.inference.breakdown import copy_lengths, word_positions

    text = "xx abcdefgh yy abcdefgh"
    copies = copy_lengths(text)
    assert copies[-1] == 8 and copies[-8] == 0  # the repeat's 8th character closes an 8-copy
    assert (copies[:15] == 0).all()
    assert copy_lengths(text, window=5)[-1] == 0  # the first one is too far back
    assert word_positions("ab c_d!")[:6].tolist() == [1, 2, 0, 1, 2, 3]


def test_the_breakdown_rows_add_up():
    from charrnn.inference.breakdown import breakdowns

    text = 'def f(x):\n    return "a" + x\n' * 20
    rng = random.Random(2)
    a = np.array([rng.random() for _ in text])
    b = a + 0.5
    scored = np.ones(len(text), bool)
    scored[0] = False
    found = breakdowns(text, scored, {"model": a, "ngram": b})
    for rows in found.values():
        assert sum(r["chars"] for r in rows) <= len(text) - 1
    classes = found["by_class"]
    assert sum(r["chars"] for r in classes) == len(text) - 1
    assert sum(r["gain"] for r in classes) == pytest.approx(0.5)  # b is a + 0.5 everywhere
    assert all(r["model_better"] == 1.0 for r in classes)


def test_the_error_oracles_peel_in_order():
    from charrnn.inference.errors import breakdown

    train = "the cat sat on the mat. " * 50 + "zebra "
    text = "the cat sat. zebra quux, the quux"
    bits = np.full(len(text), 3.0)  # every character an error (p = 1/8)
    scored = np.ones(len(text), bool)
    scored[0] = False
    found = breakdown(text, scored, bits, train)
    assert found["errors"] == len(text) - 1
    names = [r["oracle"].split(" (")[0] for r in found["oracles"]]
    assert names == ["n-gram"] + ["dynamic memory"] * 4 + ["rare words", "word model",
                                                          "punctuation", "boost"]  # fmt: skip
    removed = [r["errors"] for r in found["oracles"]]
    # "the cat sat" is predictable by a 9-gram of the training text
    assert removed[0] >= 8
    # the second "quux" (never in training) repeats the first: its "uux" is in the memory
    assert sum(removed[1:5]) == 3
    assert sum(r["errors"] for r in found["oracles"]) + found["other"] == found["errors"]


# --------------------------------------------------------------------------- compare
def test_compare_puts_the_run_beside_the_ngram_and_compressors(cli, run_dir, tmp_path):
    run, corpus = run_dir
    text = corpus.read_text(encoding="utf-8")
    train, held = tmp_path / "train.txt", tmp_path / "held.txt"
    cut = len(text) * 3 // 4
    train.write_text(text[:cut], encoding="utf-8")
    held.write_text(text[cut:], encoding="utf-8")
    code, out, err = cli("compare", run, held, "--train", train, "--order", "3", "--json")
    assert code == 0, err
    found = json.loads(out)
    _, plain, _ = cli("eval", run, held, "--json")
    assert found["model"]["bpc"] == pytest.approx(json.loads(plain)["bpc"])  # eval's figure
    ngram = tmp_path / "t.ngram"
    cli("ngram", train, "--order", "3", "--out", ngram)
    _, by_file, _ = cli("eval", ngram, held, "--json")
    assert found["ngram"]["order"] == 3
    assert found["ngram"]["bpc"] == pytest.approx(json.loads(by_file)["bpc"])
    assert set(found["compressors"]) == {"gzip", "bz2", "xz"}
    assert found["compressors"]["xz"] == pytest.approx(
        bits_per_char(held.read_text(encoding="utf-8"), train.read_text(encoding="utf-8"))["xz"]
    )
    assert {"by_class", "by_closing_distance", "by_word_position", "by_copy"} <= set(
        found["breakdowns"]
    )
    assert found["errors"]["errors"] > 0


def test_compare_reads_a_saved_ngram_prints_tables_and_writes_a_page(cli, run_dir, tmp_path):
    run, corpus = run_dir
    ngram, page = tmp_path / "c.ngram", tmp_path / "cmp.html"
    assert cli("ngram", corpus, "--order", "4", "--out", ngram)[0] == 0
    code, out, err = cli("compare", run, corpus, "--train", corpus, "--ngram", ngram, "--dynamic",
                         "--cache-size", "200", "--html", page)  # fmt: skip
    assert code == 0, err
    assert "4-gram" in out and "adapting" in out and "given the training text" in out
    assert "by character class" in out and "oracle" in out
    body = page.read_text(encoding="utf-8")
    assert '"mode":"compare"' in body and "by position in the word" in body
    code, _, err = cli("compare", run, corpus, "--train", corpus, "--ngram", ngram, "--html", page)
    assert code == 0, err  # its own page is replaced


def test_compare_refusals(cli, run_dir, tmp_path):
    run, corpus = run_dir
    code, _, err = cli("compare", run, corpus)
    assert code != 0 and "--train" in err
    code, _, err = cli("compare", run, tmp_path / "missing.txt", "--train", corpus)
    assert code != 0 and "Traceback" not in err
    code, _, err = cli("compare", run, corpus, "--train", corpus, "--order", "99")
    assert code != 0 and "--order 99" in err
