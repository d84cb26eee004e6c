import numpy as np
import pytest

from charrnn.inspection import features


def _f(name, text):
    return features.compute(name, text).astype(int).tolist()


def test_quotes_state_after_each_character():
    assert _f("quotes", 'a "bc" d') == [0, 0, 1, 1, 1, 0, 0, 0]
    assert _f("quotes", "x\u201cy\u201dz") == [0, 1, 1, 0, 0]


def test_brackets_depth():
    assert _f("brackets", "f(a[b]){}") == [0, 1, 1, 2, 2, 1, 0, 1, 0]


def test_line_position_indent_and_word_position():
    text = "ab c\n  de\n"
    assert _f("line_pos", text) == [1, 2, 3, 4, 0, 1, 2, 3, 4, 0]
    assert _f("indent", text) == [0, 0, 0, 0, 0, 1, 2, 2, 2, 0]
    assert _f("word_pos", text) == [1, 2, 0, 1, 0, 0, 0, 1, 2, 0]
    assert _f("eol", "abc\nd\n") == [3, 2, 1, 0, 1, 0]


def test_comment_outside_strings_only():
    assert _f("comment", 'x # c\n"#" y') == [0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert _f("comment", "a // b") == [0, 0, 1, 1, 1, 1]


def test_regex_and_names():
    assert _f("regex:[0-9]+", "ab12c3") == [0, 0, 1, 1, 0, 1]
    assert features.canonical("line-pos") == "line_pos" and features.canonical("quote") == "quotes"
    with pytest.raises(features.FeatureError, match="unknown feature"):
        features.canonical("sentiment")
    with pytest.raises(features.FeatureError, match="regular expression"):
        features.canonical("regex:(")
    assert features.is_binary(np.array([0.0, 1.0])) and not features.is_binary(np.array([2.0]))
