"""The default corpus: Python source code from the running interpreter's standard library.

It is on every machine with Python, needs no network, and is code, like the Linux-kernel corpus of
the char-rnn experiments: indentation, brackets, strings and comments give units to find.
The selection is deterministic for a given Python version (sorted paths, ASCII-only files).
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

SKIP_DIRS = {
    "test",
    "tests",
    "idlelib",
    "lib2to3",
    "site-packages",
    "ensurepip",
    "_vendor",
    "turtledemo",
    "__pycache__",
    "dist-packages",
    "config-3",
}
MAX_FILE_BYTES = 120_000


def stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def source_files(root: Path):
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith("config-") for part in rel.parts[:-1]):
            continue
        yield path, rel


def build(max_bytes: int = 2_000_000, root: Path | None = None) -> str:
    """Concatenated ASCII source files, up to about `max_bytes`."""
    root = root or stdlib_dir()
    parts, total = [], 0
    for path, rel in source_files(root):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if not data.strip() or len(data) > MAX_FILE_BYTES or not data.isascii():
            continue
        text = data.decode("ascii").replace("\r\n", "\n").replace("\t", "    ")
        parts.append(f"# file: {rel.as_posix()}\n{text.rstrip()}\n\n\n")
        total += len(parts[-1])
        if total >= max_bytes:
            break
    if not parts:
        raise FileNotFoundError(f"no Python sources found under {root}")
    return "".join(parts)
