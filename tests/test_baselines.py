"""The yardsticks beside a model: compressors (their bits per character alone and given the
training text) and `charrnn compare`."""

from __future__ import annotations

import bz2
import lzma
import random

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
