import numpy as np
import pytest

from charrnn.data.vocab import Vocab


def test_round_trip_and_sorted_ids():
    text = "hello, wörld\n日本 😀"
    v = Vocab.from_text(text)
    assert list(v.symbols) == sorted(set(text))
    ids = v.encode(text)
    assert v.decode(ids) == text
    assert ids[0] == v.symbols.index("h")


def test_unknown_characters_raise_unless_unk():
    v = Vocab.from_text("abc")
    assert v.unknown_chars("abz!") == ["!", "z"]
    with pytest.raises(KeyError):
        v.encode("abz")


def test_rare_characters_map_to_unknown_and_dtype_grows():
    counts = {"a": 10, "b": 5, "c": 1, "d": 1}
    v = Vocab.from_counts(counts, min_count=2)
    assert v.symbols == "ab" and v.has_unk and v.size == 3
    assert v.encode("abcd").tolist() == [0, 1, 2, 2]
    assert v.decode([0, 2]) == "a\ufffd"
    capped = Vocab.from_counts(counts, max_vocab=3)
    assert capped.symbols == "ab" and capped.size == 3
    big = Vocab.from_text("".join(chr(0x4E00 + i) for i in range(300)))
    assert big.dtype == np.uint16
    assert big.decode(big.encode(big.symbols)) == big.symbols


def test_byte_mode_encodes_any_text_and_streams_partial_characters():
    v = Vocab.bytes()
    text = "añ😀"
    ids = v.encode(text)
    assert v.size == 256 and ids.tolist() == list(text.encode("utf-8"))
    dec = v.decoder()
    assert "".join(dec(i) for i in ids.tolist()) == text


def test_dict_round_trip_and_validation():
    v = Vocab.from_counts({"x": 3, "y": 1}, min_count=2)
    assert Vocab.from_dict(v.to_dict()) == v
    with pytest.raises(ValueError):
        Vocab.from_dict({"unit": "char", "symbols": "ba", "has_unk": False})
    with pytest.raises(ValueError):
        Vocab.from_dict({"unit": "word", "symbols": "ab"})
