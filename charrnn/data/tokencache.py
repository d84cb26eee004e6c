"""The token-file cache: the ids of a large corpus on disk, so a corpus is encoded once.

An entry is two files in the cache directory, named by the content's sha256 (never by
modification time) and the encoding options: KEY.tokens (the raw ids) and KEY.json (format,
source sha256, vocabulary, counts, token count, and the CRC-32 of the token bytes). Loading checks
all of them — header, size, checksum (about 1.5 GB/s) — and a stale entry (truncated, damaged,
a header that does not parse or names other content) raises `StaleEntry`: it is never trained on.
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charrnn.data.vocab import Vocab
from charrnn.errors import DataError
from charrnn.fileio import atomic_write_bytes

FORMAT = 1
BLOCK = 16 << 20


class StaleEntry(Exception):
    """A cache entry that must not be used; the message says why."""


@dataclass(frozen=True)
class Entry:
    directory: Path
    digest: str  # sha256 of the source text
    options: str  # the encoding options, e.g. "char-v0-m1"

    @property
    def header(self) -> Path:
        return self.directory / f"{self.digest[:32]}-{self.options}.json"

    @property
    def tokens(self) -> Path:
        return self.directory / f"{self.digest[:32]}-{self.options}.tokens"

    def exists(self) -> bool:
        return self.header.exists() or self.tokens.exists()

    def load(self):
        """(vocab, counts, memory-mapped ids), or StaleEntry."""
        try:
            header = json.loads(self.header.read_text(encoding="utf-8"))
            vocab = Vocab.from_dict(header["vocab"])
            n, crc = int(header["n_tokens"]), int(header["tokens_crc32"])
        except FileNotFoundError:
            raise StaleEntry("has no header") from None
        except (OSError, ValueError, KeyError, TypeError):
            raise StaleEntry("has a header that does not parse") from None
        if header.get("format") != FORMAT or header.get("sha256") != self.digest:
            raise StaleEntry("was made from other content or by another version")
        try:
            size = self.tokens.stat().st_size
        except OSError:
            raise StaleEntry("has no token file") from None
        if size != n * vocab.dtype.itemsize:
            raise StaleEntry(f"is {size:,} bytes, not {n * vocab.dtype.itemsize:,} (truncated?)")
        if _file_crc32(self.tokens) != crc:
            raise StaleEntry("does not match its checksum (damaged)")
        return vocab, dict(header.get("counts", {})), _map(self.tokens, n, vocab)

    def store(self, chunks, vocab: Vocab, counts: dict, source: str) -> np.ndarray:
        """Writes the ids (an iterable of arrays) and the header; returns the ids mapped."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            n, crc = _write_tokens(self.tokens, chunks)
            header = {
                "format": FORMAT,
                "sha256": self.digest,
                "source": source,
                "vocab": vocab.to_dict(),
                "counts": counts,
                "n_tokens": n,
                "dtype": vocab.dtype.name,
                "tokens_crc32": crc,
            }
            atomic_write_bytes(
                self.header,
                json.dumps(header, ensure_ascii=False).encode("utf-8"),
                what="token cache header",
                error=DataError,
                hint="Free space or choose another --cache-dir.",
            )
        except OSError as e:
            raise DataError(
                f"cannot write the token cache in {self.directory}: {e.strerror}; free some "
                f"space or choose another directory with --cache-dir."
            ) from None
        return _map(self.tokens, n, vocab)


def _map(path: Path, n: int, vocab: Vocab) -> np.ndarray:
    return np.memmap(path, dtype=vocab.dtype, mode="r") if n else np.zeros(0, vocab.dtype)


def _write_tokens(path: Path, chunks) -> tuple[int, int]:
    """(tokens written, CRC-32 of their bytes); the file appears whole or not at all."""
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    n, crc = 0, 0
    try:
        with open(tmp, "wb") as f:
            for ids in chunks:
                data = ids.tobytes()
                f.write(data)
                crc = zlib.crc32(data, crc)
                n += len(ids)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return n, crc


def _file_crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            crc = zlib.crc32(block, crc)
    return crc
