"""Synthetic corpora with known structure, to check that unit search finds real units.

    quotes  prose of invented words, with "QUOTED SPANS" in capitals, lines wrapped at `width`
    lines   the same prose without quotes: only line position predicts the line breaks
    code    Python-like code: nested brackets, indentation blocks, # comments, "strings"

Capitals inside quotes make the quote state worth remembering (the case of every letter depends
on it), and the fixed wrap width makes line position worth counting (it predicts each newline).
All text is generated from a seed: nothing here is copied from anywhere.
"""

from __future__ import annotations

import random

KINDS = ("quotes", "lines", "code")
CONSONANTS, VOWELS = "bdfgklmnprstvz", "aeiou"


def _lexicon(rng: random.Random, n: int = 300) -> list[str]:
    words = set()
    while len(words) < n:
        syllables = rng.choice((1, 2, 2, 3))
        words.add("".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(syllables)))
    return sorted(words)


def _sentence(rng, lexicon, quotes: bool) -> list[str]:
    words = [rng.choice(lexicon) for _ in range(rng.randint(4, 12))]
    if quotes and rng.random() < 0.6:
        span = [rng.choice(lexicon).upper() for _ in range(rng.randint(1, 5))]
        at = rng.randint(0, len(words))
        span[0] = '"' + span[0]
        span[-1] = span[-1] + '"'
        words[at:at] = span
    words[-1] += rng.choice(".,;.")
    return words


def _hard_wrap(words, width: int) -> str:
    """Every line exactly `width` characters (words cut where the line ends), as in fixed-width
    records: the line break is predictable from the position in the line alone."""
    flat = " ".join(words)
    return "".join(flat[i : i + width] + "\n" for i in range(0, len(flat), width))


def _wrap(words, width: int) -> str:
    lines, line = [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    lines.append(line)
    return "\n".join(lines) + "\n"


def _prose(rng, lexicon, length: int, width: int, quotes: bool, hard: bool) -> str:
    words = []
    total = 0
    while total < length:
        s = _sentence(rng, lexicon, quotes)
        words += s
        total += sum(len(w) + 1 for w in s)
    return (_hard_wrap if hard else _wrap)(words, width)[:length]


def _expr(rng, lexicon, depth: int) -> str:
    r = rng.random()
    if depth > 3 or r < 0.35:
        return rng.choice(lexicon) if rng.random() < 0.8 else str(rng.randint(0, 99))
    if r < 0.55:
        return f"{rng.choice(lexicon)}({_args(rng, lexicon, depth)})"
    if r < 0.7:
        return f"[{_args(rng, lexicon, depth)}]"
    if r < 0.8:
        return f"{{{rng.choice(lexicon)}: {_expr(rng, lexicon, depth + 1)}}}"
    if r < 0.9:
        return f'"{" ".join(rng.choice(lexicon) for _ in range(rng.randint(1, 4)))}"'
    return f"({_expr(rng, lexicon, depth + 1)} + {_expr(rng, lexicon, depth + 1)})"


def _args(rng, lexicon, depth: int) -> str:
    return ", ".join(_expr(rng, lexicon, depth + 1) for _ in range(rng.randint(1, 3)))


def _code(rng, lexicon, length: int) -> str:
    out, total, indent = [], 0, 0
    while total < length:
        r = rng.random()
        pad = "    " * indent
        if r < 0.15 and indent < 4:
            line = f"{pad}def {rng.choice(lexicon)}({', '.join(rng.sample(lexicon, 2))}):"
            indent += 1
        elif r < 0.25 and indent < 4:
            line = f"{pad}if {_expr(rng, lexicon, 2)}:"
            indent += 1
        elif r < 0.35:
            line = f"{pad}# {' '.join(rng.choice(lexicon) for _ in range(rng.randint(2, 7)))}"
        elif r < 0.45 and indent > 0:
            line = f"{pad}return {_expr(rng, lexicon, 1)}"
            indent -= 1
        else:
            line = f"{pad}{rng.choice(lexicon)} = {_expr(rng, lexicon, 0)}"
        out.append(line)
        total += len(line) + 1
    return ("\n".join(out) + "\n")[:length]


def generate(
    kind: str = "quotes",
    length: int = 200_000,
    seed: int = 0,
    width: int = 40,
    hard_wrap: bool = False,
) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown synthetic corpus {kind!r}; choose one of {', '.join(KINDS)}")
    rng = random.Random(seed)
    lexicon = _lexicon(rng)
    if kind == "code":
        return _code(rng, lexicon, length)
    return _prose(rng, lexicon, length, width, quotes=kind == "quotes", hard=hard_wrap)
