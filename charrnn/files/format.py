"""The checkpoint file format, without torch: paths, atomic writes, and a hand-checked reading
of the safetensors header and charrnn metadata.

A checkpoint is one safetensors file: an 8-byte little-endian header length, a JSON header
(tensor names, dtypes, shapes, byte offsets, and `__metadata__`), then the raw tensor bytes. The
header is validated here (size, offsets, dtypes, shapes, JSON schema) before any tensor data is
read, so a foreign, truncated or hostile file gives a one-line `CheckpointError` and allocates
nothing large; nothing is ever unpickled. `checkpoint.py` adds the torch side; the CPU sampler
reads the weights as numpy arrays through `load_arrays` and never imports torch.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from pathlib import Path

from charrnn.data.vocab import Vocab
from charrnn.errors import CheckpointError
from charrnn.model.config import ModelConfig

FORMAT_NAME = "charrnn-checkpoint"
NGRAM_FORMAT = "charrnn-ngram"  # `charrnn ngram`'s models (inference/ngramfile.py)
# 2: a CRC-32 of every tensor's bytes in the metadata (`tensor_crc32`); files of version 1,
# without it, still load
FORMAT_VERSION = 2
MAX_HEADER_BYTES = 64 << 20  # the JSON header of a real checkpoint is kilobytes
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
BEST, LATEST = "best.ckpt", "latest.ckpt"
EXPORT_WEIGHTS = "model.safetensors"  # `charrnn export OUTDIR`: weights beside config.json


def model_name(path: str | os.PathLike) -> str:
    """What a user calls the model in `path`: its run or export directory for the files charrnn
    names itself (best.ckpt, latest.ckpt, model.safetensors), else the file's own name."""
    path = Path(path).absolute()
    if path.name in (BEST, LATEST, EXPORT_WEIGHTS) and path.parent.name:
        return path.parent.name
    return path.name


def snapshot_name(step: int) -> str:
    """The weights-only snapshot `--keep-every` keeps at `step`."""
    return f"step-{step:06d}.ckpt"


def snapshots(run_dir: Path) -> list[Path]:
    return sorted(Path(run_dir).glob("step-*.ckpt"))


# --------------------------------------------------------------------------- paths
def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint file, or a directory: a run (its best checkpoint, else its latest) or an
    export (its model.safetensors)."""
    p = Path(path)
    if p.is_dir():
        for name in (BEST, LATEST, EXPORT_WEIGHTS):
            if (p / name).is_file():
                return p / name
        raise CheckpointError(
            f"{p}: no {BEST} or {LATEST} in this directory; is it a run directory?"
        )
    if not p.exists():
        raise CheckpointError(f"{p}: no such checkpoint; give a .ckpt file or a run directory.")
    return p


def read_header(path: Path, expect: str = FORMAT_NAME) -> tuple[dict, dict]:
    """(tensor entries, charrnn metadata) after checking the safetensors header by hand; the
    file must be of the `expect` format (a checkpoint, or an n-gram model)."""
    bad = f"{path}: not a charrnn {'checkpoint' if expect == FORMAT_NAME else 'n-gram model'}"
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{bad} (file too short).")
            (n,) = struct.unpack("<Q", head)
            if n < 2 or n > min(size - 8, MAX_HEADER_BYTES):
                raise CheckpointError(
                    f"{bad} (no safetensors header; a pickle or another format?)."
                )
            raw = f.read(n)
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a directory without checkpoints.") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read checkpoint: {e.strerror or e}.") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"{bad} (header is not JSON).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{bad} (header is not a JSON object).")
    meta_raw = header.pop("__metadata__", None) or {}
    if not isinstance(meta_raw, dict) or "charrnn" not in meta_raw:
        raise CheckpointError(f"{bad} (a safetensors file without charrnn metadata).")
    _check_entries(header, size - 8 - n, bad)
    try:
        meta = json.loads(meta_raw["charrnn"])
    except (TypeError, json.JSONDecodeError):
        raise CheckpointError(f"{bad} (charrnn metadata is not JSON).") from None
    if isinstance(meta, dict) and meta.get("format") == NGRAM_FORMAT != expect:
        raise CheckpointError(
            f"{path}: an n-gram model (charrnn ngram), not a trained network: eval, sample and "
            f"compare read it; this command needs a run."
        )
    if not isinstance(meta, dict) or meta.get("format") != expect:
        raise CheckpointError(f"{bad} (unknown metadata format).")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{bad} (no format version).")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format v{version} is newer than this charrnn understands "
            f"(v{FORMAT_VERSION}); update the installed copy of charrnn (e.g. `git pull` in its "
            f"repository, then `pip install -e .`)."
        )
    return header, meta


def _check_entries(entries: dict, data_bytes: int, bad: str) -> None:
    spans = []
    for name, e in entries.items():
        ok = (
            isinstance(e, dict)
            and e.get("dtype") in DTYPE_BYTES
            and isinstance(e.get("shape"), list)
            and all(isinstance(d, int) and d >= 0 for d in e["shape"])
            and isinstance(e.get("data_offsets"), list)
            and len(e["data_offsets"]) == 2
            and all(isinstance(o, int) for o in e["data_offsets"])
        )
        if not ok:
            raise CheckpointError(f"{bad} (malformed entry for tensor {name!r}).")
        start, end = e["data_offsets"]
        expected = math.prod(e["shape"]) * DTYPE_BYTES[e["dtype"]]
        if not 0 <= start <= end <= data_bytes or end - start != expected:
            raise CheckpointError(f"{bad} (tensor {name!r} lies outside the file; truncated?).")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise CheckpointError(f"{bad} (overlapping tensor data).")


def read_config(path: Path, meta: dict) -> tuple[ModelConfig, Vocab]:
    try:
        config = ModelConfig.from_dict(meta["model_config"])
        vocab = Vocab.from_dict(meta["vocab"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: checkpoint metadata is invalid ({e}).") from None
    if vocab.size != config.vocab_size:
        raise CheckpointError(f"{path}: vocabulary size does not match the model config.")
    return config, vocab


def load_arrays(
    path: Path, entries: dict, meta: dict, groups: tuple[str, ...], framework: str
) -> dict:
    """The tensors whose name starts with one of `groups`, as `framework` arrays ("pt",
    "numpy"), after checking their bytes against the checksums the file was written with."""
    from safetensors import safe_open

    wanted = [k for k in entries if k.split(".", 1)[0] in groups]
    check_checksums(path, entries, meta, wanted)
    try:
        with safe_open(str(path), framework=framework, device="cpu") as f:
            return {k: f.get_tensor(k) for k in wanted}
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{path}: corrupt checkpoint data ({e}).") from None


def tensor_checksum(data) -> int:
    """CRC-32 of a tensor's bytes as the file holds them (little-endian, row-major)."""
    return zlib.crc32(data)


def check_checksums(path: Path, entries: dict, meta: dict, names: list[str]) -> None:
    """Bytes flipped on a disk or in a copy make one line, never a model that quietly samples
    garbage. Files written before the checksums (format 1) are read as they are."""
    sums = meta.get("tensor_crc32")
    if sums is None and meta.get("format_version", 1) < 2:
        return
    if not isinstance(sums, dict):
        raise CheckpointError(f"{path}: not a charrnn checkpoint (no tensor checksums).")
    try:
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            for name in names:
                start, end = entries[name]["data_offsets"]
                f.seek(8 + n + start)
                if tensor_checksum(f.read(end - start)) != sums.get(name):
                    raise CheckpointError(
                        f"{path}: tensor {name!r} does not match its checksum: the file was "
                        f"damaged on disk or in a copy. Use another copy (a run keeps "
                        f"{LATEST}, {BEST} and any step-*.ckpt snapshots)."
                    )
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read checkpoint: {e.strerror or e}.") from None
