"""Writing files so that a crash, a kill or a full disk never leaves a half-written one.

`atomic_write_bytes` writes a temp file beside the target, fsyncs it, renames it over the target
and fsyncs the directory: the path holds the old bytes or the new ones, never a mix. Checkpoints,
token-cache headers, corpora, pages, dumps and the metrics file all go through it; each caller
says which error to raise and what the user should do about it.
"""

from __future__ import annotations

import os
from pathlib import Path


def temp_path(path: Path) -> Path:
    """Where `path` is written before the rename (hidden, per process)."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def remove_stale_temps(directory: Path) -> None:
    """Temp files of writes that a crash interrupted."""
    for stale in directory.glob(".*.tmp*"):
        stale.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes, *, what: str, error: type, hint: str) -> None:
    """Temp file + fsync + rename + fsync of the directory. A failure raises `error` naming
    `what` and the path, whether the previous file is intact, and `hint`."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        kept = f"; the previous {path.name} is intact" if path.exists() else ""
        raise error(f"could not write {what} {path}: {e.strerror or e}{kept}. {hint}") from None
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
