"""Corpora the project provides, installed as `charrnn.corpora` (this folder is mapped there by
pyproject.toml): download recipes with checksums (recipes.json), a builder for a corpus found
on every machine (pystdlib.py), and generators of synthetic text with known structure
(synth.py).

`get()` downloads a recipe's URL to a temp file with progress, applies its transform (unzip one
member, or normalise a text's BOM / CRLF line ends), checks size and sha256, then renames into
place: a failed or interrupted download never leaves a half file under the final name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from charrnn.errors import CharRNNError, ConfigError, DownloadError, OutputError
from charrnn.fileio import atomic_write_bytes, check_replaceable

Progress = Callable[[int, int | None], None]  # (bytes done, bytes total or None)
BUILDERS = {"pystdlib": "Python standard-library source code of this interpreter (offline)"}


@dataclass(frozen=True)
class Recipe:
    name: str
    url: str
    sha256: str
    size: int
    transform: str = "none"  # "none" | "text" | "unzip:MEMBER"
    about: str = ""


def recipes() -> dict[str, Recipe]:
    raw = json.loads(resources.files(__name__).joinpath("recipes.json").read_text("utf-8"))
    return {k: Recipe(name=k, **v) for k, v in raw.items() if not k.startswith("_")}


def recipe(name: str) -> Recipe:
    known = recipes()
    if name not in known:
        names = ", ".join(sorted(known) + sorted(BUILDERS))
        raise ConfigError(f"unknown corpus {name!r}; known corpora: {names}.")
    return known[name]


def _download(url: str, progress: Progress | None, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            buf, done = io.BytesIO(), 0
            while block := response.read(1 << 20):
                buf.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
            return buf.getvalue()
    except urllib.error.HTTPError as e:
        raise DownloadError(
            f"download failed: {url} answered HTTP {e.code} ({e.reason})."
        ) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise DownloadError(
            f"cannot download {url} ({reason}); are you offline? Download it elsewhere and "
            f"pass the file to `charrnn train`, or use the offline corpus: "
            f"`charrnn corpus build pystdlib`."
        ) from None


def apply_transform(data: bytes, transform: str) -> bytes:
    if transform == "none":
        return data
    if transform == "text":  # drop a UTF-8 byte-order mark, CRLF -> LF
        return data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    if transform.startswith("unzip:"):
        member = transform.split(":", 1)[1]
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return z.read(member)
        except (zipfile.BadZipFile, KeyError) as e:
            raise DownloadError(f"downloaded archive is not what was expected ({e}).") from None
    raise CharRNNError(f"unknown transform {transform!r} in the recipe.")


def output_file(dest: str | os.PathLike | None, name: str) -> Path:
    """Where a corpus called `name` goes: `dest` itself when it names a file (it has a suffix,
    e.g. data/notes.txt), else NAME.txt in the directory `dest` (default: data/)."""
    dest = Path("data") if dest is None else Path(dest)
    if dest.is_dir() or not dest.suffix:
        return dest / f"{name}.txt"
    return dest


def get(
    rec: Recipe,
    dest: str | os.PathLike | None = None,
    url: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
    overwrite: bool = False,
) -> Path:
    """Downloads and checks a corpus into `dest` (see output_file); returns its path. An
    existing, verified file is reused; any other file there is replaced only with `overwrite`,
    and refused before the download."""
    dest = output_file(dest, rec.name)
    if dest.is_file() and _sha256(dest.read_bytes()) == rec.sha256:
        return dest
    check_replaceable(dest, "corpus", overwrite=overwrite)
    data = apply_transform(_download(url or rec.url, progress, timeout), rec.transform)
    digest = _sha256(data)
    if digest != rec.sha256:
        raise DownloadError(
            f"checksum mismatch for {rec.name}: expected sha256 {rec.sha256[:16]}..., got "
            f"{digest[:16]}... ({len(data)} bytes); the download is corrupt or the source changed."
        )
    return write_file(dest, data, overwrite=True)  # checked before the download


def build(
    name: str,
    dest: str | os.PathLike | None = None,
    max_bytes: int = 2_000_000,
    overwrite: bool = False,
) -> Path:
    """Builds an offline corpus (see BUILDERS) into `dest` (see output_file)."""
    if name != "pystdlib":
        raise ConfigError(f"unknown corpus builder {name!r}; builders: {', '.join(BUILDERS)}.")
    from . import pystdlib

    try:
        text = pystdlib.build(max_bytes)
    except FileNotFoundError as e:
        raise CharRNNError(f"cannot build pystdlib: {e}.") from None
    return write_file(output_file(dest, name), text.encode("utf-8"), overwrite)


def synthesize(
    kind: str, dest: str | os.PathLike | None = None, overwrite: bool = False, **options
) -> Path:
    """Writes a synthetic corpus (corpora/synth.py) to `dest` (see output_file)."""
    from . import synth

    try:
        text = synth.generate(kind, **options)
    except ValueError as e:
        raise ConfigError(f"{e}.") from None
    return write_file(output_file(dest, kind), text.encode("utf-8"), overwrite)


def write_file(dest: Path, data: bytes, overwrite: bool = False) -> Path:
    """`data` into `dest`, unless another file is there (the same bytes are fine: a corpus
    built again) and `overwrite` is not given."""
    check_replaceable(dest, "corpus", overwrite=overwrite, ours=lambda p: _same_bytes(p, data))
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create {dest.parent}: {e.strerror or e}.") from None
    atomic_write_bytes(
        dest, data, what="corpus", error=OutputError, hint="Free disk space or write elsewhere."
    )
    return dest


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
