"""The error breakdown of Karpathy, Johnson & Fei-Fei (2015), Section 4.4: an error is a character
the model gave probability below 0.5; oracles, applied in the paper's order, each take away the
errors still left that they explain, so every error is counted once ("peeling the onion").

The paper's definitions, as charrnn reads them (docs/baselines.md says where it had to choose):
1. n-gram: an n-gram model of the training text of some order 1 to 9 gives the character
   probability >= 0.5.
2. dynamic n-long memory: the character is inside a word (its second character or later) and the
   whole word occurs in the n characters before it (n = 100, 500, 1000, 5000, each a row): the
   paper's "Mary ... Mary"; the word so far would be found for nearly any second character.
3. rare words: the character's word occurs at most 5 times in the training text.
4. word model: the character starts a word: it follows a space, a line break or a quote.
5. punctuation: the character is punctuation.
6. boost: the model gave it at least 0.25 (a fixed boost would have fixed it; the paper's boost
   amounts are not given, so one cut).
Whatever is left is "other". numpy only."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

ERROR_BELOW = 0.5
NGRAM_ORDERS = range(1, 10)
MEMORY_WINDOWS = (100, 500, 1000, 5000)
RARE_AT_MOST = 5
BOOST_FROM = 0.25
WORD = re.compile(r"\w+")
STARTS_WORD_AFTER = set(" \t\n\r\"'`\u201c\u201d\u2018\u2019\u00ab\u00bb")


def breakdown(text: str, scored: np.ndarray, model_bits: np.ndarray, train_text: str) -> dict:
    """{"chars", "errors", "error_rate", "oracles": [{"oracle", "errors", "share"}], "other"}:
    the model's errors on `text` (its bits per position) and what each oracle takes away."""
    from charrnn.data.reading import read
    from charrnn.data.vocab import Vocab
    from charrnn.inference.ngram import NGram

    vocab = Vocab.from_text(train_text)
    train_ids, ngram_ids = vocab.encode(train_text), read(vocab, text, "text", "map").ids

    p = np.exp2(-model_bits)
    left = scored & (p < ERROR_BELOW)
    total = int(left.sum())
    found = []

    def take(name: str, explained: np.ndarray) -> None:
        nonlocal left
        hit = left & explained
        found.append({"oracle": name, "errors": int(hit.sum()),
                      "share": float(hit.sum() / total) if total else 0.0})  # fmt: skip
        left = left & ~hit

    right = np.zeros(len(text), dtype=bool)
    for model in NGram.orders(train_ids, max(NGRAM_ORDERS), vocab.size).values():
        right |= model.target_probs(ngram_ids) >= ERROR_BELOW
    take(f"n-gram (order {NGRAM_ORDERS[0]}-{NGRAM_ORDERS[-1]})", right)
    for window in MEMORY_WINDOWS:
        take(f"dynamic memory ({window:,} chars)", _in_memory(text, left, window))
    take(f"rare words (<= {RARE_AT_MOST} times in training)", _in_rare_word(text, train_text))
    take("word model (first character of a word)", _starts_word(text))
    take("punctuation", np.array([not (c.isalnum() or c.isspace()) for c in text]))
    take(f"boost (given >= {BOOST_FROM})", p >= BOOST_FROM)
    scored_n = int(scored.sum())
    return {"chars": scored_n, "errors": total, "error_rate": total / scored_n if scored_n else 0,
            "oracles": found, "other": int(left.sum()),
            "other_share": float(left.sum() / total) if total else 0.0}  # fmt: skip


def _in_memory(text: str, candidates: np.ndarray, window: int) -> np.ndarray:
    """Positions (among `candidates`) from a word's second character on whose whole word
    occurs in the `window` characters before the word."""
    out = np.zeros(len(text), dtype=bool)
    for m in WORD.finditer(text):
        inside = slice(m.start() + 1, m.end())
        if candidates[inside].any() and text.find(m.group(), max(0, m.start() - window),
                                                  m.start()) >= 0:  # fmt: skip
            out[inside] = True
    return out


def _in_rare_word(text: str, train_text: str) -> np.ndarray:
    counts = Counter(WORD.findall(train_text))
    out = np.zeros(len(text), dtype=bool)
    for m in WORD.finditer(text):
        if counts[m.group()] <= RARE_AT_MOST:
            out[m.start() : m.end()] = True
    return out


def _starts_word(text: str) -> np.ndarray:
    out = np.zeros(len(text), dtype=bool)
    for t in range(1, len(text)):
        out[t] = text[t - 1] in STARTS_WORD_AFTER and not text[t].isspace()
    return out
