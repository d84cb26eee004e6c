"""The single save/load path for checkpoints.

A checkpoint is one safetensors file. Tensors: the model's weights under `model.*`, and for resume
the optimizer state (`optim.*`), the carried hidden state (`state.*`) and the RNG state (`rng.*`).
Everything else is JSON in the safetensors metadata under the key "charrnn": format version, model
config, vocabulary, train config, progress, metrics.

Writing is atomic (temp file + fsync + rename + fsync of the directory), so a crash or a full disk
leaves the previous file intact. Reading never unpickles: the header is parsed and validated here
(size, offsets, dtypes, shapes) before safetensors touches the data, so a foreign, truncated or
hostile file gives a one-line `CheckpointError` and allocates nothing large.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from charrnn import __version__
from charrnn.errors import CheckpointError
from charrnn.model import CharRNN, ModelConfig
from charrnn.vocab import Vocab

FORMAT_NAME = "charrnn-checkpoint"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 64 << 20  # the JSON header of a real checkpoint is kilobytes
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
BEST, LATEST = "best.ckpt", "latest.ckpt"


@dataclass
class Checkpoint:
    path: Path
    meta: dict  # the JSON metadata
    model_config: ModelConfig
    vocab: Vocab
    tensors: dict  # name -> tensor (only the groups asked for)

    def group(self, prefix: str) -> dict:
        """Tensors under `prefix.`, with the prefix removed."""
        cut = len(prefix) + 1
        return {k[cut:]: v for k, v in self.tensors.items() if k.startswith(prefix + ".")}


# --------------------------------------------------------------------------- paths
def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint file, or a run directory meaning its best checkpoint (else its latest)."""
    p = Path(path)
    if p.is_dir():
        for name in (BEST, LATEST):
            if (p / name).is_file():
                return p / name
        raise CheckpointError(
            f"{p}: no {BEST} or {LATEST} in this directory; is it a run directory?"
        )
    if not p.exists():
        raise CheckpointError(f"{p}: no such checkpoint; give a .ckpt file or a run directory.")
    return p


# --------------------------------------------------------------------------- saving
def save(
    path: str | os.PathLike,
    model: CharRNN,
    vocab: Vocab,
    meta: dict | None = None,
    extra_tensors: dict | None = None,
) -> Path:
    """Writes model weights + `extra_tensors` + JSON `meta` atomically to `path`."""
    path = Path(path)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(extra_tensors or {})
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "charrnn_version": __version__,
        "model_config": model.config.to_dict(),
        "vocab": vocab.to_dict(),
        **(meta or {}),
    }
    data = safetensors_bytes(tensors, metadata={"charrnn": json.dumps(header, ensure_ascii=False)})
    atomic_write_bytes(path, data, what="checkpoint")
    return path


def atomic_write_bytes(path: Path, data: bytes, what: str = "file") -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        kept = f"; the previous {path.name} is intact" if path.exists() else ""
        raise CheckpointError(
            f"could not write {what} {path}: {e.strerror or e}{kept}. Free disk space or "
            f"choose another --out directory."
        ) from None
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


# --------------------------------------------------------------------------- loading
def read_header(path: Path) -> tuple[dict, dict]:
    """(tensor entries, charrnn metadata) after checking the safetensors header by hand."""
    bad = f"{path}: not a charrnn checkpoint"
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
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{bad} (unknown metadata format).")
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"{bad} (no format version).")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format v{version} is newer than this charrnn understands "
            f"(v{FORMAT_VERSION}); upgrade charrnn (pip install -U charrnn)."
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


def read(path: str | os.PathLike, groups: tuple[str, ...] = ("model",)) -> Checkpoint:
    """Reads a checkpoint (a file or a run directory), loading only the tensor groups asked for."""
    path = resolve(path)
    entries, meta = read_header(path)
    try:
        config = ModelConfig.from_dict(meta["model_config"])
        vocab = Vocab.from_dict(meta["vocab"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: checkpoint metadata is invalid ({e}).") from None
    if vocab.size != config.vocab_size:
        raise CheckpointError(f"{path}: vocabulary size does not match the model config.")
    wanted = [k for k in entries if k.split(".", 1)[0] in groups]
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            tensors = {k: f.get_tensor(k) for k in wanted}
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{path}: corrupt checkpoint data ({e}).") from None
    return Checkpoint(path, meta, config, vocab, tensors)


def build_model(ckpt: Checkpoint, device: str | torch.device = "cpu") -> CharRNN:
    """The model with the checkpoint's weights, after checking every name, shape and dtype."""
    model = CharRNN(ckpt.model_config)
    weights = ckpt.group("model")
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{ckpt.path}: weights do not match the model config "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})."
        )
    for name, t in weights.items():
        if t.shape != expected[name].shape or not t.is_floating_point():
            raise CheckpointError(
                f"{ckpt.path}: tensor {name} has shape {tuple(t.shape)} / {t.dtype}, "
                f"expected {tuple(expected[name].shape)} floating point."
            )
    model.load_state_dict({k: v.float() for k, v in weights.items()})
    return model.to(device).eval()


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """(model in eval mode, vocab, checkpoint) — all that sample / inspect / eval need."""
    ckpt = read(path)
    return build_model(ckpt, device), ckpt.vocab, ckpt
