"""New text read by a trained model: a file or a string to ids under the model's vocabulary.

Any real new text holds characters the model never saw (an accented name, a typographic quote,
an emoji). `--unknown` says what to do with them:

    error  refuse, listing them and their counts
    skip   drop them: the model reads the text as if they were not there
    map    read each as the model's unknown symbol when it has one, else as the text's most
           frequent character the model knows, and score the positions that hold them apart
           (the default: the text keeps its shape, so pages, features and positions line up
           with the file, and only characters the model could predict are scored)

Whatever was skipped or mapped is recorded in the `Reading` (which characters, how many, where),
for the summary, `--json` and the pages to show.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charrnn.data.config import DEFAULT_UNKNOWN, UNKNOWN_MODES
from charrnn.data.corpus import check_text_file
from charrnn.data.vocab import BYTE_LEVEL, CHAR_LEVEL, Vocab
from charrnn.errors import DataError
from charrnn.words import plural


@dataclass(frozen=True)
class Reading:
    text: str  # what the model reads (with skip: without the unseen characters)
    ids: np.ndarray  # (T,)
    label: str  # the file, or "--text"
    mode: str
    unseen: dict  # {character: count} of the characters the model never saw, in the source
    substitute: str | None  # map: what they were read as
    mapped: np.ndarray  # bool (T,): positions holding a mapped character
    skipped_before: np.ndarray  # int (T,): characters dropped just before each position
    skipped_at_end: int = 0  # characters dropped after the last position

    @property
    def unseen_count(self) -> int:
        return sum(self.unseen.values())

    def scored(self) -> np.ndarray:
        """bool (T,): the positions whose loss counts (a target the model could predict)."""
        mask = ~self.mapped
        mask[:1] = False  # the first character only starts the state
        return mask

    def describe(self) -> str | None:
        """One line about the unseen characters (None when there were none)."""
        if not self.unseen:
            return None
        listed = ", ".join(f"{c!r} x{n}" for c, n in list(self.unseen.items())[:12])
        what = f"{plural(self.unseen_count, 'character')} the model never saw ({listed})"
        if self.mode == "skip":
            return f"{self.label}: skipped {what}."
        return f"{self.label}: read {what} as {self.substitute!r} and scored them apart."

    def to_dict(self) -> dict:
        return {"mode": self.mode, "count": self.unseen_count, "chars": self.unseen,
                "read_as": self.substitute}  # fmt: skip


def read_text_file(path: str | os.PathLike, max_chars: int | None = None,
                   level: str = CHAR_LEVEL) -> str:  # fmt: skip
    """A text file as training reads it: UTF-8 with every character kept (no newline
    translation: a CR stays a CR, so a CRLF file scores as the model was trained on it), and
    for a character model a byte-order mark at the very start dropped (corpus.py drops it too;
    a byte model reads it as the bytes it is)."""
    path = check_text_file(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read(-1 if max_chars is None else max_chars + 1)
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not valid UTF-8 ({e.reason} near byte {e.start}).") from None
    if level == CHAR_LEVEL and text.startswith("\ufeff"):
        text = text[1:]
    return text if max_chars is None else text[:max_chars]


def read_source(
    source: str | Path, max_chars: int | None = None, level: str = CHAR_LEVEL
) -> tuple[str, str]:
    """(text, label) from a file path (read as `read_text_file` does) or literal text, cut to
    max_chars; the label names it in messages ("--text" for literal text)."""
    if isinstance(source, Path):
        return read_text_file(source, max_chars, level), str(source)
    return source if max_chars is None else source[:max_chars], "--text"


def source_length(source: str | Path, level: str = CHAR_LEVEL) -> int:
    """How many characters `source` holds in all (as `read_text_file` would return them), read
    in chunks: what a text cut to --max-chars says it was cut from."""
    if not isinstance(source, Path):
        return len(source)
    n, first = 0, True
    with open(source, encoding="utf-8", errors="replace", newline="") as f:
        while chunk := f.read(1 << 20):
            n += len(chunk) - (first and level == CHAR_LEVEL and chunk.startswith("\ufeff"))
            first = False
    return n


def read(vocab: Vocab, text: str, label: str = "text", unknown: str = DEFAULT_UNKNOWN) -> Reading:
    """`text` under `vocab`, with the characters it lacks handled as `unknown` says."""
    if unknown not in UNKNOWN_MODES:
        raise DataError(f"--unknown must be one of {', '.join(UNKNOWN_MODES)}, not {unknown!r}.")
    if not text:
        raise DataError(f"{label}: no text to read.")
    n = len(text)
    if vocab.level == BYTE_LEVEL:
        ids = vocab.encode(text)
        return Reading(text, ids, label, unknown, {}, None, np.zeros(len(ids), bool),
                       np.zeros(len(ids), np.int64))  # fmt: skip
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    codes = vocab.lookup()[cps]
    missing = codes < 0
    unseen = dict(sorted(Counter(text[i] for i in np.flatnonzero(missing)).items()))
    if unseen and unknown == "error":
        listed = ", ".join(f"{c!r} x{k}" for c, k in list(unseen.items())[:12])
        raise DataError(
            f"{label}: {sum(unseen.values())} character(s) the model never saw ({listed}); "
            f"--unknown skip drops them, --unknown map reads them as a known symbol."
        )
    if unknown == "skip":
        kept = np.flatnonzero(~missing)
        if not len(kept):
            raise DataError(f"{label}: no character the model knows; nothing to read.")
        before = np.diff(np.concatenate([[-1], kept])) - 1
        at_end = n - 1 - int(kept[-1])
        text = "".join(text[i] for i in kept) if unseen else text
        return Reading(text, codes[kept].astype(vocab.dtype), label, unknown, unseen, None,
                       np.zeros(len(kept), bool), before.astype(np.int64), at_end)  # fmt: skip
    substitute, sub_id = _substitute(vocab, codes, missing)
    ids = np.where(missing, sub_id, codes).astype(vocab.dtype)
    return Reading(text, ids, label, unknown, unseen, substitute if unseen else None, missing,
                   np.zeros(n, np.int64))  # fmt: skip


def _substitute(vocab: Vocab, codes: np.ndarray, missing: np.ndarray) -> tuple[str, int]:
    """What unseen characters are read as: the unknown symbol, else the text's most frequent
    known character."""
    if vocab.has_unk:
        return "the unknown symbol", vocab.unk_id
    known = codes[~missing]
    if not len(known):
        raise DataError("no character the model knows in this text; nothing to read.")
    sub_id = int(np.bincount(known).argmax())
    return vocab.id_to_symbol(sub_id), sub_id


def read_file(vocab: Vocab, path: str | os.PathLike, unknown: str = DEFAULT_UNKNOWN,
              max_chars: int | None = None) -> Reading:  # fmt: skip
    text, label = read_source(Path(path), max_chars, vocab.level)
    return read(vocab, text, label, unknown)
