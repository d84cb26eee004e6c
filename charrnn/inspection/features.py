"""Features of a text, one value per character, that a hidden unit might track.

Each feature is the state *after* reading the character at that position, which is what the
activation at that position can know: the opening quote itself is "inside quotes", the closing
quote is not. `eol` is the exception: it looks ahead (characters until the next newline), which a
model can only anticipate, as the line-length cells of Karpathy et al. (2015) do.

The catalogue (`FEATURES`, `BUILTIN`, `ALIASES`) needs no numpy, so `inspect --help` lists it;
`compute` returns numpy arrays.

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


def compute(name: str, text: str):
    """The feature's value at every character of `text` (a float32 array of len(text))."""
    import numpy as np

    name = canonical(name)
    if name.startswith("regex:"):
        return np.asarray(_regex(name[len("regex:") :], text), dtype=np.float32)
    return np.asarray(FEATURES[name][1](text), dtype=np.float32)


def is_binary(values) -> bool:
    import numpy as np

    return bool(np.isin(values, (0.0, 1.0)).all())


def _quotes(text: str) -> list:
    out = [0.0] * len(text)
    inside = False
    for i, ch in enumerate(text):
        if ch == '"':
            inside = not inside
        elif ch in "\u201c\u201d":
            inside = ch == "\u201c"
        out[i] = inside
    return out


def _brackets(text: str) -> list:
    out = [0.0] * len(text)
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        out[i] = depth
    return out


def _since(text: str, separators: str) -> list:
    """Characters since the last separator (0 on the separator itself)."""
    out = [0.0] * len(text)
    pos = 0
    for i, ch in enumerate(text):
        pos = 0 if ch in separators else pos + 1
        out[i] = pos
    return out


def _line_pos(text: str) -> list:
    return _since(text, "\n")


def _indent(text: str) -> list:
    out = [0.0] * len(text)
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


def _comment(text: str) -> list:
    out = [0.0] * len(text)
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


def _word_pos(text: str) -> list:
    return _since(text, " \n\t")


def _eol(text: str) -> list:
    out = [0.0] * len(text)
    remaining = EOL_CAP
    for i in range(len(text) - 1, -1, -1):
        remaining = 0 if text[i] == "\n" else min(EOL_CAP, remaining + 1)
        out[i] = remaining
    return out


def _regex(pattern: str, text: str) -> list:
    out = [0.0] * len(text)
    for m in re.finditer(pattern, text):
        out[m.start() : m.end()] = [1.0] * (m.end() - m.start())
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
