"""Features of a text, one value per character, that a hidden unit might track.

Each feature is the state *after* reading the character at that position, which is what the
activation at that position can know: the opening quote itself is "inside quotes", the closing
quote is not. `eol` is the exception: it looks ahead (characters until the next newline), which a
model can only anticipate, as the line-length cells of Karpathy et al. (2015) do.

    quotes    1 inside "..." or “...” spans (ASCII quotes toggle), else 0
    brackets  nesting depth of (), [] and {}
    line_pos  characters since the last newline
    indent    leading spaces of the current line
    comment   1 inside a comment: # or // to the end of the line (outside quotes)
    word_pos  characters since the last space or newline
    eol       characters until the next newline (capped at 120)
    regex:P   1 inside a match of the regular expression P
"""

from __future__ import annotations

import re
import warnings

import numpy as np

ALIASES = {
    "quote": "quotes",
    "bracket": "brackets",
    "depth": "brackets",
    "line": "line_pos",
    "position": "line_pos",
    "indentation": "indent",
    "comments": "comment",
    "word": "word_pos",
    "end_of_line": "eol",
}
EOL_CAP = 120


class FeatureError(ValueError):
    pass


def canonical(name: str) -> str:
    if name.startswith("regex:"):
        pattern = name[len("regex:") :]
        try:
            with warnings.catch_warnings():  # e.g. FutureWarning on "[[": one line, not two
                warnings.simplefilter("ignore")
                re.compile(pattern)
        except re.error as e:
            raise FeatureError(f"--find {name!r}: not a valid regular expression ({e}).") from None
        return name
    key = ALIASES.get(name.replace("-", "_"), name.replace("-", "_"))
    if key not in BUILTIN:
        raise FeatureError(
            f"unknown feature {name!r}; choose one of {', '.join(BUILTIN)} or regex:PATTERN."
        )
    return key


def compute(name: str, text: str) -> np.ndarray:
    """The feature's value at every character of `text` (float32, length len(text))."""
    name = canonical(name)
    if name.startswith("regex:"):
        return _regex(name[len("regex:") :], text)
    return FEATURES[name][1](text).astype(np.float32)


def is_binary(values: np.ndarray) -> bool:
    return bool(np.isin(values, (0.0, 1.0)).all())


def _quotes(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    inside = False
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch in "\u201c\u201d":
            inside = ch == "\u201c"
        out[i] = inside
    return out


def _brackets(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        out[i] = depth
    return out


def _since(text: str, separators: str) -> np.ndarray:
    """Characters since the last separator (0 on the separator itself)."""
    out = np.zeros(len(text))
    pos = 0
    for i, ch in enumerate(text):
        pos = 0 if ch in separators else pos + 1
        out[i] = pos
    return out


def _line_pos(text: str) -> np.ndarray:
    return _since(text, "\n")


def _indent(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    indent, at_start = 0, True
    for i, ch in enumerate(text):
        if ch == "\n":
            indent, at_start = 0, True
        elif at_start and ch == " ":
            indent += 1
        else:
            at_start = False
        out[i] = indent
    return out


def _comment(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    quote, comment, prev = None, False, ""
    for i, ch in enumerate(text):
        if ch == "\n":
            comment, quote = False, None
        elif comment:
            pass
        elif quote:
            if ch == quote and prev != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" or (ch == "/" and prev == "/"):
            comment = True
            if ch == "/":
                out[i - 1] = 1
        out[i] = comment
        prev = ch
    return out


def _word_pos(text: str) -> np.ndarray:
    return _since(text, " \n\t")


def _eol(text: str) -> np.ndarray:
    out = np.zeros(len(text))
    remaining = EOL_CAP
    for i in range(len(text) - 1, -1, -1):
        remaining = 0 if text[i] == "\n" else min(EOL_CAP, remaining + 1)
        out[i] = remaining
    return out


def _regex(pattern: str, text: str) -> np.ndarray:
    out = np.zeros(len(text), np.float32)
    for m in re.finditer(pattern, text):
        out[m.start() : m.end()] = 1
    return out


# name -> (what it is, for people; its values for a text). Defined last: it names the functions.
FEATURES = {
    "quotes": ("inside quotes", _quotes),
    "brackets": ("bracket/parenthesis depth", _brackets),
    "line_pos": ("position in line", _line_pos),
    "indent": ("indentation depth", _indent),
    "comment": ("inside a comment (code)", _comment),
    "word_pos": ("characters since the last space", _word_pos),
    "eol": ("characters until end of line", _eol),
}
BUILTIN = {name: about for name, (about, _) in FEATURES.items()}
