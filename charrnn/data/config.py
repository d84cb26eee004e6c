"""`DataConfig`: how a text file becomes ids for training (characters or bytes, vocabulary
limits, the token cache), as plain data: torch- and numpy-free, so `--help` shows the defaults
instantly. Each field's help text and range are declared once (options.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from charrnn.options import check_ranges, option

# What to do with characters a model never saw in the text it reads (data/reading.py).
UNKNOWN_MODES = ("map", "skip", "error")
DEFAULT_UNKNOWN = "map"
UNKNOWN_HELP = (
    "Characters the model never saw: map (read each as the model's unknown symbol, or the "
    "text's most frequent known character, and score those positions apart), skip (drop them), "
    "or error (refuse, listing them)."
)


@dataclass(frozen=True)
class DataConfig:
    """How a text file becomes ids for training."""

    level: str = option(
        "char",
        "char: Unicode characters; byte: raw UTF-8 bytes (any file).",
        choices=("char", "byte"),
        flag="--unit",
    )
    max_vocab: int | None = option(
        None, "Keep at most N characters; the rarest map to one unknown symbol.", 2
    )
    min_count: int = option(1, "Characters seen fewer times map to the unknown symbol.", 1)
    cache_dir: Path | None = option(
        None, "Where token files of large corpora are cached. Default: ~/.cache/charrnn."
    )

    def __post_init__(self):
        check_ranges(self)

    def to_dict(self) -> dict:
        """What a checkpoint keeps: how the text became ids (not where the cache was)."""
        return {"unit": self.level, "max_vocab": self.max_vocab, "min_count": self.min_count}
