"""The single save/load path for checkpoints (torch side; the file format is in format.py).

A checkpoint is one safetensors file. Tensors: the model's weights under `model.*`, and for resume
the optimizer state (`optim.*`), the carried hidden state (`state.*`) and the RNG state (`rng.*`).
Everything else is JSON in the safetensors metadata under the key "charrnn": format version, model
config, vocabulary, train config, progress, metrics.

Writing is atomic (temp file + fsync + rename + fsync of the directory), so a crash or a full disk
leaves the previous file intact. Reading never unpickles: the header is parsed and validated here
(size, offsets, dtypes, shapes) before safetensors touches the data, so a foreign, truncated or
hostile file gives a one-line `CheckpointError` and allocates nothing large. The metadata keeps
a CRC-32 of every tensor's bytes (format 2), checked as the tensors are read, so bits flipped on a
disk or in a copy are one line too, not a model that quietly samples garbage.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save as safetensors_bytes

from charrnn import __version__
from charrnn.data.vocab import Vocab
from charrnn.errors import CheckpointError
from charrnn.fileio import atomic_write_bytes
from charrnn.files.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    load_arrays,
    read_config,
    read_header,
    resolve,
    tensor_checksum,
)
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN


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
        "tensor_crc32": {k: tensor_checksum(_raw_bytes(t)) for k, t in tensors.items()},
    }
    data = safetensors_bytes(tensors, metadata={"charrnn": json.dumps(header, ensure_ascii=False)})
    atomic_write_bytes(
        path,
        data,
        what="checkpoint",
        error=CheckpointError,
        hint="Free disk space or choose another --out directory.",
    )
    return path


def _raw_bytes(t: torch.Tensor) -> memoryview:
    """The tensor's bytes as safetensors writes them (little-endian on the machines torch
    runs on)."""
    return memoryview(t.reshape(-1).view(torch.uint8).numpy())


# --------------------------------------------------------------------------- loading
def read(path: str | os.PathLike, groups: tuple[str, ...] = ("model",)) -> Checkpoint:
    """Reads a checkpoint (a file or a run directory), loading only the tensor groups asked for."""
    path = resolve(path)
    entries, meta = read_header(path)
    config, vocab = read_config(path, meta)
    return Checkpoint(path, meta, config, vocab, load_arrays(path, entries, meta, groups, "pt"))


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
