"""Where one model beats another, character by character (`charrnn compare`): the loss of each
on the same positions of a text, grouped by what the character is, how far it is from the
bracket or quote it closes (Karpathy, Johnson & Fei-Fei 2015, Section 4.3's long-range curve),
its place in its word, and whether it continues a string read shortly before (a copy).

Every function takes the text and boolean `scored` positions (those both models scored) and
returns its groups as keys of positions; `rows` turns groups into the figures shown.
numpy only."""

from __future__ import annotations

import itertools

import numpy as np

CLOSERS = {")": "(", "]": "[", "}": "{"}
OPENERS = set(CLOSERS.values())
QUOTE_PAIRS = {'"': '"', "\u201d": "\u201c", "\u00bb": "\u00ab"}  # closing: opening
QUOTES = set("\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb")
DISTANCE_BINS = (1, 5, 10, 20, 40, 80, 160)  # lower edges, in characters
COPY_LENGTHS = (8, 16, 32)  # a copy: the character and the L - 1 before it seen before
COPY_WINDOW = 10000  # ... within this many characters


def char_class(c: str) -> str:
    if c.isalpha():
        return "letters"
    if c.isdigit():
        return "digits"
    if c in " \t":
        return "spaces"
    if c in "\n\r":
        return "line breaks"
    if c in OPENERS:
        return "opening brackets"
    if c in CLOSERS:
        return "closing brackets"
    if c in QUOTES:
        return "quotes"
    return "other punctuation" if not c.isspace() else "spaces"


CLASSES = ("letters", "digits", "spaces", "line breaks", "opening brackets", "closing brackets",
           "quotes", "other punctuation")  # fmt: skip


def by_class(text: str) -> np.ndarray:
    """Each position's character class (an index into CLASSES)."""
    index = {name: i for i, name in enumerate(CLASSES)}
    return np.array([index[char_class(c)] for c in text], dtype=np.int64)


def closing_distances(text: str) -> np.ndarray:
    """(T,) for each closing bracket or closing quote, the characters back to the one it
    closes; 0 elsewhere. Brackets match by a stack per kind (a stray closer matches nothing);
    straight double quotes pair up in turn (the second of each pair closes), curly and angle
    quotes close their own opener. Single quotes are left out: in prose they are apostrophes."""
    out = np.zeros(len(text), dtype=np.int64)
    stacks: dict[str, list[int]] = {o: [] for o in OPENERS | {"\u201c", "\u00ab"}}
    open_double = -1
    for t, c in enumerate(text):
        if c in stacks:
            stacks[c].append(t)
        elif c in CLOSERS or c in ("\u201d", "\u00bb"):
            opener = CLOSERS.get(c) or QUOTE_PAIRS[c]
            if stacks[opener]:
                out[t] = t - stacks[opener].pop()
        elif c == '"':
            if open_double < 0:
                open_double = t
            else:
                out[t], open_double = t - open_double, -1
    return out


def distance_bin(distances: np.ndarray) -> np.ndarray:
    """Index into DISTANCE_BINS of each positive distance; -1 for 0."""
    return np.where(distances > 0, np.searchsorted(DISTANCE_BINS, distances, side="right") - 1,
                    -1)  # fmt: skip


def word_positions(text: str) -> np.ndarray:
    """(T,) 1 for a word's first character, 2 for its second, ...; 0 outside words (a word: a
    run of letters, digits and underscores)."""
    out = np.zeros(len(text), dtype=np.int64)
    run = 0
    for t, c in enumerate(text):
        run = run + 1 if (c.isalnum() or c == "_") else 0
        out[t] = run
    return out


def copy_lengths(text: str, window: int = COPY_WINDOW) -> np.ndarray:
    """(T,) the longest L in COPY_LENGTHS such that the L characters ending at t (t included)
    also end somewhere in the `window` characters before t; 0 if none. The character is then
    predictable by copying what followed the same L - 1 characters before."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    out = np.zeros(len(text), dtype=np.int64)
    for length in COPY_LENGTHS:
        if len(codes) < length:
            break
        hashes = _rolling_hashes(codes, length)  # hashes[j]: text[j : j + length]
        last: dict[int, int] = {}
        for j, h in enumerate(hashes.tolist()):
            t = j + length - 1  # the end of the string
            seen = last.get(h)
            if seen is not None and t - seen <= window:
                out[t] = length
            last[h] = t
    return out


def _rolling_hashes(codes: np.ndarray, length: int) -> np.ndarray:
    """A 64-bit polynomial hash of every `length`-character string (wrapping arithmetic)."""
    base = np.uint64(1_000_003)
    h = np.zeros(len(codes) - length + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(length):
            h = h * base + codes[k : k + len(h)]
    return h


def rows(groups: np.ndarray, labels, scored: np.ndarray, bits: dict) -> list[dict]:
    """For each group index i (labels[i]) that holds scored positions: how many, the mean bits
    of each model in `bits` ({name: (T,)}: "model" and "ngram" first) on them, the share of
    them the model predicts better than the n-gram (a higher probability), and the group's
    part of the whole difference: the bits per character (of all scored characters) the model
    saves on this group over the n-gram; the groups' gains add up to the two figures' gap."""
    a, b = bits["model"], bits["ngram"]
    total = max(int(scored.sum()), 1)
    out = []
    for i, label in enumerate(labels):
        at = scored & (groups == i)
        n = int(at.sum())
        if not n:
            continue
        row = {"group": label, "chars": n}
        row |= {f"{name}_bpc": float(v[at].mean()) for name, v in bits.items()}
        row["model_better"] = float((a[at] < b[at]).mean())
        row["gain"] = float((b[at] - a[at]).sum()) / total
        out.append(row)
    return out


def breakdowns(text: str, scored: np.ndarray, bits: dict, copy_window: int = COPY_WINDOW) -> dict:
    """Every breakdown of the model against the n-gram (and any other `bits`) on `text`."""
    distance = distance_bin(closing_distances(text))
    words = np.minimum(word_positions(text), 5)
    copies = np.searchsorted((0,) + COPY_LENGTHS, copy_lengths(text, copy_window), side="right")
    dist_labels = [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(DISTANCE_BINS)]
    return {
        "by_class": rows(by_class(text), CLASSES, scored, bits),
        "by_closing_distance": rows(
            distance, dist_labels + [f"{DISTANCE_BINS[-1]}+"], scored, bits
        ),  # fmt: skip
        "by_word_position": rows(
            words, ["outside words", "1st", "2nd", "3rd", "4th", "5th+"], scored, bits
        ),  # fmt: skip
        "by_copy": rows(
            copies - 1, ["no copy"] + [f"copy of {n}+" for n in COPY_LENGTHS], scored, bits
        ),  # fmt: skip
    }
