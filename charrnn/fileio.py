"""Files that survive crashes and concurrent writers.

`atomic_write_bytes` writes a temp file beside the target, fsyncs it, renames it over the target
and fsyncs the directory: the path holds the old bytes or the new ones, never a mix. Checkpoints,
token-cache headers, corpora, pages, dumps and the metrics file all go through it; each caller
says which error to raise and what the user should do about it.

`check_replaceable` is the rule every command that writes follows: a path that holds something
charrnn did not write (as that kind of output) is replaced only with `--overwrite`.

`RunLock` keeps one writer per run directory: an exclusive `flock` on RUN/train.lock, which the
kernel releases when the process ends, however it ends (kill -9 included), so a lock is never
left behind by a dead process. The file names its holder for the one refused.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from charrnn.errors import OutputError, RunInUseError

LOCK_NAME = "train.lock"


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
    except BaseException:  # Ctrl-C or SIGTERM mid-write: no temp file left behind
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def check_replaceable(
    path: Path, what: str, *, overwrite: bool, ours: Callable[[Path], bool] = lambda p: False
) -> None:
    """Refuses (one line, before anything is computed or written) to replace what is at `path`
    unless it is charrnn's own `what` (`ours(path)`) or `overwrite` was given."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir():
        raise OutputError(f"{path} is a directory; give a file name for the {what}.")
    if overwrite or ours(path):
        return
    raise OutputError(
        f"{path} already exists ({describe_file(path)}) and is not a charrnn {what}; replace it "
        f"with --overwrite, or write elsewhere."
    )


def describe_file(path: Path) -> str:
    """What is there, in a few words, for a refusal."""
    try:
        return f"{path.stat().st_size:,} bytes"
    except OSError:
        return "unreadable"


def starts_with(path: Path, marker: bytes, within: int = 4096) -> bool:
    """Whether `marker` is in the first `within` bytes of the file (how charrnn's own pages and
    dumps are recognised)."""
    try:
        with open(path, "rb") as f:
            return marker in f.read(within)
    except OSError:
        return False


class RunLock:
    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK_NAME
        self.fd = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # no flock on this platform: no lock
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise RunInUseError(
                f"{self.path.parent} is being trained into by {holder}; wait for it to finish or "
                f"stop it, or pick another --out."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"charrnn pid {os.getpid()} on {socket.gethostname()}".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)  # closing releases the flock; the file stays (no unlink race)
            self.fd = None
        return False
