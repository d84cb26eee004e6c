"""`Vocab`: characters (or bytes) <-> integer ids.

Character mode: the distinct characters of the training text, sorted by code point, so the same
text always gives the same ids. Optionally one extra "unknown" id stands for rare characters
(`--max-vocab`, `--min-count`); sampling never emits it. Byte mode: ids are the 256 byte values
of the UTF-8 encoding, so any file works and nothing is unknown.

Encoding works on numpy arrays of code points, not Python loops: it runs at hundreds of MB/s.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

CHAR_LEVEL = "char"
BYTE_LEVEL = "byte"
UNK_DISPLAY = "\ufffd"  # how the unknown id is shown when decoded


@dataclass(frozen=True)
class Vocab:
    symbols: str  # character mode: the known characters, sorted; byte mode: empty
    level: str = CHAR_LEVEL  # characters, or the 256 byte values
    has_unk: bool = False

    def __post_init__(self):
        if self.level not in (CHAR_LEVEL, BYTE_LEVEL):
            raise ValueError(f"unknown vocabulary unit {self.level!r}")
        if self.level == CHAR_LEVEL:
            if list(self.symbols) != sorted(set(self.symbols)):
                raise ValueError("vocabulary symbols must be sorted and distinct")
            if not self.symbols:
                raise ValueError("vocabulary is empty")
        cps = np.frombuffer(self.symbols.encode("utf-32-le"), dtype=np.uint32)
        object.__setattr__(self, "_codepoints", cps)

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_counts(
        cls, counts: Mapping[str, int], max_vocab: int | None = None, min_count: int = 1
    ) -> Vocab:
        """Keep characters seen at least `min_count` times, at most `max_vocab` of the most
        frequent (ties broken by code point); the rest map to one unknown id."""
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = [ch for ch, n in ranked if n >= min_count]
        if max_vocab is not None and len(kept) > max_vocab - 1 and len(counts) > max_vocab:
            kept = kept[: max_vocab - 1]  # one slot goes to the unknown symbol
        has_unk = len(kept) < len(counts)
        return cls("".join(sorted(kept)), CHAR_LEVEL, has_unk)

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        return cls("".join(sorted(set(text))))

    def extended(self, chars) -> Vocab:
        """This vocabulary grown by `chars` (ids of the characters it had may move: see
        model.grow_vocab)."""
        return Vocab("".join(sorted(set(self.symbols) | set(chars))), self.level, self.has_unk)

    @classmethod
    def bytes(cls) -> Vocab:
        return cls("", BYTE_LEVEL)

    # ----------------------------------------------------------------- properties
    @property
    def size(self) -> int:
        if self.level == BYTE_LEVEL:
            return 256
        return len(self.symbols) + int(self.has_unk)

    @property
    def unk_id(self) -> int | None:
        return len(self.symbols) if self.has_unk else None

    @property
    def dtype(self) -> np.dtype:
        """Smallest unsigned integer type that holds every id."""
        if self.size <= 256:
            return np.dtype(np.uint8)
        return np.dtype(np.uint16) if self.size <= 65536 else np.dtype(np.uint32)

    def id_to_symbol(self, i: int) -> str:
        if self.level == BYTE_LEVEL:
            return chr(i)
        return UNK_DISPLAY if i == self.unk_id else self.symbols[i]

    # ----------------------------------------------------------------- encode / decode
    def unknown_chars(self, text: str) -> list[str]:
        """Characters of `text` that are not in the vocabulary (with an unknown id, they would
        encode to it)."""
        if self.level == BYTE_LEVEL:
            return []
        return sorted(set(text) - set(self.symbols))

    def encode(self, text: str) -> np.ndarray:
        """Text -> ids (1-D array of `self.dtype`). Raises KeyError listing unknown characters."""
        if self.level == BYTE_LEVEL:
            return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return self.encode_codepoints(cps)

    def encode_codepoints(self, cps: np.ndarray) -> np.ndarray:
        """Code points -> ids through a lookup table over all of Unicode (one gather)."""
        ids = self.lookup()[cps]
        unknown = ids < 0
        if unknown.any():
            if not self.has_unk:
                missing = sorted({chr(c) for c in np.unique(cps[unknown][:100000]).tolist()})
                raise KeyError(missing)
            ids = np.where(unknown, self.unk_id, ids)
        return ids.astype(self.dtype)

    def lookup(self) -> np.ndarray:
        table = getattr(self, "_table", None)
        if table is None:
            table = np.full(0x110000, -1, dtype=np.int32)
            table[self._codepoints] = np.arange(len(self._codepoints), dtype=np.int32)
            object.__setattr__(self, "_table", table)
        return table

    def decode(self, ids: Iterable[int]) -> str:
        ids = [int(i) for i in ids]
        if self.level == BYTE_LEVEL:
            return bytes(ids).decode("utf-8", errors="replace")
        return "".join(self.id_to_symbol(i) for i in ids)

    def decoder(self):
        """A callable id -> text for streaming output; in byte mode it holds back the bytes of an
        unfinished UTF-8 character until the character is complete."""
        if self.level == BYTE_LEVEL:
            dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
            return lambda i: dec.decode(bytes([i]))
        return self.id_to_symbol

    # ----------------------------------------------------------------- plain data
    def to_dict(self) -> dict:
        return {"unit": self.level, "symbols": self.symbols, "has_unk": self.has_unk}

    @classmethod
    def from_dict(cls, d: Mapping) -> Vocab:
        """Inverse of `to_dict`; raises ValueError on anything malformed."""
        if not isinstance(d, Mapping):
            raise ValueError("vocab must be an object")
        unit, symbols, has_unk = d.get("unit"), d.get("symbols"), d.get("has_unk", False)
        if not isinstance(symbols, str) or not isinstance(has_unk, bool):
            raise ValueError("vocab.symbols must be a string and vocab.has_unk a boolean")
        return cls(symbols, unit, has_unk)
