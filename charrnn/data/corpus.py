"""Training text: files -> token ids under a vocabulary built from them (or a model's).

Encoding streams over the file in chunks (incremental UTF-8 decoding, so a character split across
a chunk boundary is handled), in bounded memory: pass 1 counts characters to build the `Vocab`,
pass 2 writes ids; large files go to a token file that training memory-maps (tokencache.py).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charrnn.data import tokencache
from charrnn.data.config import DataConfig
from charrnn.data.vocab import BYTE_LEVEL, CHAR_LEVEL, Vocab
from charrnn.errors import ConfigError, DataError
from charrnn.words import plural

CHUNK_BYTES = 16 << 20
IN_MEMORY_LIMIT = 32 << 20  # smaller files are encoded in memory, larger ones cached on disk
Progress = Callable[[str, int, int], None]  # (phase, bytes done, bytes total)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "charrnn"


@dataclass(frozen=True)
class Corpus:
    """A text file encoded to ids. `ids` is a read-only memmap (cached) or an in-memory array."""

    path: str
    sha256: str
    vocab: Vocab
    ids: np.ndarray
    counts: dict  # symbol -> count (empty in byte mode)
    options: DataConfig = DataConfig()  # how it was encoded (saved with the run)

    def __len__(self) -> int:
        return len(self.ids)


# --------------------------------------------------------------------------- reading files
def check_text_file(path: str | os.PathLike) -> Path:
    """Fail early, with advice, on paths that cannot be a corpus."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file. Check the path (try `ls {p.parent}`).")
    if p.is_dir():
        raise DataError(f"{p}: is a directory; give a text file inside it.")
    if not os.access(p, os.R_OK):
        raise DataError(f"{p}: permission denied; make the file readable (chmod +r).")
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty; give a text file with some content.")
    return p


def _chunks(path: Path, progress: Progress | None, phase: str):
    total, done = path.stat().st_size, 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield done, chunk
            done += len(chunk)
            if progress:
                progress(phase, done, total)


def _codepoint_chunks(path: Path, progress: Progress | None, phase: str):
    """Yields code points (uint32 arrays) of the file, decoding UTF-8 incrementally."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    for offset, chunk in _chunks(path, progress, phase):
        held_back = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as e:
            at = offset - held_back + e.start
            raise DataError(
                f"{path}: not valid UTF-8 (byte offset {at}); convert it to UTF-8, "
                f"or train on raw bytes with --unit byte."
            ) from None
        if text.startswith("\ufeff") and offset == 0:
            text = text[1:]  # a byte-order mark is not part of the text
        yield np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise DataError(
            f"{path}: ends in the middle of a UTF-8 character; the file may be truncated "
            f"(or use --unit byte)."
        ) from None


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    for _, chunk in _chunks(path, progress, "hash"):
        h.update(chunk)
    return h.hexdigest()


def count_chars(path: Path, progress: Progress | None = None) -> Counter:
    """Character counts in one streaming pass (a bincount over code points per chunk)."""
    totals = np.zeros(0x110000, dtype=np.int64)
    for cps in _codepoint_chunks(path, progress, "count"):
        totals += np.bincount(cps, minlength=0x110000)
    present = np.flatnonzero(totals)
    return Counter({chr(c): int(totals[c]) for c in present.tolist()})


def encode_chunks(path: Path, vocab: Vocab, progress: Progress | None = None):
    """Yields id arrays for the file under `vocab`; DataError if it has characters the vocab
    cannot encode."""
    if vocab.level == BYTE_LEVEL:
        for _, chunk in _chunks(path, progress, "encode"):
            yield np.frombuffer(chunk, dtype=np.uint8)
        return
    for cps in _codepoint_chunks(path, progress, "encode"):
        try:
            yield vocab.encode_codepoints(cps)
        except KeyError as e:
            missing = e.args[0]
            shown = "".join(missing[:20])
            raise DataError(
                f"{path}: {len(missing)} character(s) the model never saw: {shown!r}; "
                f"remove them, or train a model on text that contains them."
            ) from None


# --------------------------------------------------------------------------- corpus preparation
def encode_file(path: str | os.PathLike, vocab: Vocab, progress: Progress | None = None):
    """The ids of a file under a fixed vocabulary (e.g. a checkpoint's), in memory."""
    p = check_text_file(path)
    parts = list(encode_chunks(p, vocab, progress))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=vocab.dtype)


def build_vocab(counts: Counter, level: str, max_vocab: int | None, min_count: int) -> Vocab:
    if level == BYTE_LEVEL:
        return Vocab.bytes()
    if not any(n >= min_count for n in counts.values()):
        raise ConfigError(
            f"--min-count {min_count} leaves no character in the vocabulary (the most frequent "
            f"one occurs {max(counts.values(), default=0)} times); lower it."
        )
    return Vocab.from_counts(counts, max_vocab=max_vocab, min_count=min_count)


def fit_vocab(base: Vocab, counts: Counter, extend: bool, path: Path) -> Vocab:
    """A model's vocabulary for new text: as it is when it covers the text (or maps what it lacks
    to its unknown symbol), grown by the characters it lacks with `extend`, else DataError."""
    missing = sorted(set(counts) - set(base.symbols)) if base.level == CHAR_LEVEL else []
    if not missing or base.has_unk:
        return base
    if extend:
        return base.extended(missing)
    shown = "".join(missing[:20])
    raise DataError(
        f"{path}: {len(missing)} character(s) the model never saw: {shown!r}; add them to the "
        f"model with --extend-vocab, or remove them from the text."
    )


def prepare(
    path: str | os.PathLike,
    *,
    level: str = CHAR_LEVEL,
    max_vocab: int | None = None,
    min_count: int = 1,
    cache_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    base_vocab: Vocab | None = None,
    extend_vocab: bool = False,
) -> Corpus:
    """Encodes a text file once, under a vocabulary built from its characters or, for
    fine-tuning, under `base_vocab` (a model's; with `extend_vocab`, grown to cover the text).
    With `cache_dir`, the ids go to a token file there (reused when the same content is prepared
    again with the same options) and come back memory-mapped. A cache entry that does not check
    out is never used: `warn` says why, and it is rebuilt."""
    p = check_text_file(path)
    digest = file_sha256(p, progress)
    used = DataConfig(level=level, max_vocab=max_vocab, min_count=min_count)

    def vocabulary(counts):
        if base_vocab is None:
            return build_vocab(counts, level, max_vocab, min_count)
        return fit_vocab(base_vocab, counts, extend_vocab, p)

    if cache_dir is None:
        counts = count_chars(p, progress) if level == CHAR_LEVEL else Counter()
        vocab = vocabulary(counts)
        return Corpus(str(p), digest, vocab, encode_file(p, vocab, progress), dict(counts),
                      used)  # fmt: skip
    options = f"{level}-v{max_vocab or 0}-m{min_count}"
    if base_vocab is not None:
        key = json.dumps(base_vocab.to_dict(), sort_keys=True).encode()
        options = f"{level}-model{hashlib.sha256(key).hexdigest()[:12]}-x{int(extend_vocab)}"
    entry = tokencache.Entry(Path(cache_dir), digest, options)
    if entry.exists():
        try:
            vocab, counts, ids = entry.load()
            return Corpus(str(p), digest, vocab, ids, counts, used)
        except tokencache.StaleEntry as e:
            if warn:
                warn(f"note: the token cache for {p} ({entry.tokens}) {e}; rebuilding it.")
    counts = count_chars(p, progress) if level == CHAR_LEVEL else Counter()
    vocab = vocabulary(counts)
    ids = entry.store(encode_chunks(p, vocab, progress), vocab, dict(counts), source=str(p))
    return Corpus(str(p), digest, vocab, ids, dict(counts), used)


def load_corpus(
    path: str | os.PathLike,
    options: DataConfig = DataConfig(),
    progress: Progress | None = None,
    force_cache: bool = False,
    warn: Callable[[str], None] | None = None,
    base_vocab: Vocab | None = None,
    extend_vocab: bool = False,
) -> Corpus:
    """A corpus for training: small files encoded in memory, large ones (or `force_cache`)
    through the token-file cache; `base_vocab` / `extend_vocab` as for `prepare`."""
    p = check_text_file(path)
    big = p.stat().st_size > IN_MEMORY_LIMIT or force_cache
    cache = (options.cache_dir or default_cache_dir()) if big else None
    corpus = prepare(
        p,
        level=options.level,
        max_vocab=options.max_vocab,
        min_count=options.min_count,
        cache_dir=cache,
        progress=progress if big else None,
        warn=warn,
        base_vocab=base_vocab,
        extend_vocab=extend_vocab,
    )
    if len(corpus) < 2:
        raise DataError(f"{p}: too short to learn from ({plural(len(corpus), 'character')}).")
    return corpus
