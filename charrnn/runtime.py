"""`Runtime`: where and how the math runs — device, precision, and this process's place in a
distributed job (rank, world size). The training loop asks it for an autocast context, the rows
of the batch this rank owns, and a DDP-wrapped model; with one process on the CPU all of these are
no-ops.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from charrnn.errors import ConfigError

PRECISIONS = ("fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    if name not in DEVICES and not name.startswith("cuda:"):
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}, not {name!r}.")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is visible; use --device cpu.")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps: Apple's MPS backend is not available; use --device cpu.")
    return torch.device(name)


@dataclass
class Runtime:
    device: torch.device = torch.device("cpu")
    precision: str = "fp32"
    rank: int = 0
    world_size: int = 1

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}.")
        if self.precision == "fp16" and self.device.type == "cpu":
            raise ConfigError("--precision fp16 needs a GPU; on the CPU use bf16 or fp32.")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def rows(self, batch_size: int) -> slice:
        """The streams (rows of each window) this rank trains on: a disjoint, contiguous share."""
        if batch_size % self.world_size:
            raise ConfigError(
                f"--batch-size {batch_size} does not split evenly over {self.world_size} "
                f"processes; use a multiple of {self.world_size}."
            )
        share = batch_size // self.world_size
        return slice(self.rank * share, (self.rank + 1) * share)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world_size == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    @staticmethod
    def unwrap(model: torch.nn.Module) -> torch.nn.Module:
        return getattr(model, "module", model)
