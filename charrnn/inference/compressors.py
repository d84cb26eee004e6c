"""General-purpose compressors as a yardstick (Python's stdlib, default levels): the bits per
character a compressor needs for a text, alone and given the training text (compressed size of
train + text minus that of train: what it costs once the compressor has read the training text).
gzip's window is 32 KB, so it barely sees the training text; bz2 and xz see much more."""

from __future__ import annotations

import bz2
import gzip
import lzma

COMPRESSORS = {
    "gzip": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
}


def bits_per_char(text: str, given: str | None = None) -> dict[str, float]:
    """{compressor: bits per character of `text`} (UTF-8 bytes compressed), alone or `given`
    the training text before it."""
    data = text.encode("utf-8")
    chars = max(len(text), 1)
    out = {}
    for name, compress in COMPRESSORS.items():
        if given is None:
            size = len(compress(data))
        else:
            before = given.encode("utf-8")
            size = len(compress(before + data)) - len(compress(before))
        out[name] = 8 * size / chars
    return out
