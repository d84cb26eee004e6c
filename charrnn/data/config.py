"""`DataOptions`: how a text file becomes ids for training (characters or bytes, vocabulary
limits, the token cache), as plain data: torch- and numpy-free, so `--help` shows the defaults
instantly. Each field's help text and range are declared once (options.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from charrnn.options import check_ranges, option


@dataclass(frozen=True)
class DataOptions:
    """How a text file becomes ids for training."""

    unit: str = option("char", "char: Unicode characters; byte: raw UTF-8 bytes (any file).")
    max_vocab: int | None = option(
        None, "Keep at most N characters; the rarest map to one unknown symbol.", 2
    )
    min_count: int = option(1, "Characters seen fewer times map to the unknown symbol.", 1)
    cache_dir: Path | None = None  # for token files of large corpora; default_cache_dir()

    def __post_init__(self):
        check_ranges(self)
