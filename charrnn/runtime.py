"""`Runtime`: where and how the math runs — device, precision, and this process's place in a
distributed job (rank, world size). The training loop asks it for an autocast context, the rows
of the batch this rank owns, and a DDP-wrapped model; with one process on the CPU all of these are
no-ops.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass

import torch

from charrnn.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")


def set_threads(threads: int | None) -> None:
    """torch's CPU threads (its own choice when None)."""
    if threads is not None:
        torch.set_num_threads(threads)


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


def cpu_has_fast_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matrix multiplies run at about twice the fp32 rate."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


@functools.cache
def cpu_runs_bf16_lstm() -> bool:
    """Whether this CPU's LSTM kernel takes bf16 at all: oneDNN has no bf16 LSTM on CPUs without
    AVX512 (seen on an AVX2-only EPYC), where it raises instead of falling back."""
    lstm = torch.nn.LSTM(2, 2)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            lstm(torch.zeros(1, 1, 2))
    except RuntimeError:
        return False
    return True


def auto_precision(device: torch.device) -> str:
    """bf16 autocast on CPUs that run it fast (measured: ~1.6x the fp32 training rate of a 1x512
    LSTM on an AVX512-BF16 CPU, at the same loss); fp32 elsewhere, which on a GPU means TF32
    tensor cores (on an H200, cuDNN's LSTM ran 2x1024 faster in TF32 than under bf16 autocast;
    autosize measures both and takes the faster)."""
    if device.type == "cpu" and cpu_has_fast_bf16():
        return "bf16"
    return "fp32"


@dataclass
class Runtime:
    device: torch.device = torch.device("cpu")
    precision: str = "fp32"
    rank: int = 0
    world_size: int = 1

    def __post_init__(self):
        if self.precision == "auto":
            self.precision = auto_precision(self.device)
        if self.precision not in PRECISIONS:
            raise ConfigError(f"--precision must be one of {', '.join(PRECISIONS)}.")
        if self.precision == "fp16" and self.device.type == "cpu":
            raise ConfigError("--precision fp16 needs a GPU; on the CPU use bf16 or fp32.")
        if self.precision == "bf16" and self.device.type == "cpu" and not cpu_runs_bf16_lstm():
            raise ConfigError(
                "--precision bf16: this CPU's LSTM kernel has no bf16 path (it needs AVX512); "
                "use --precision fp32."
            )
        if self.device.type == "cuda":  # fp32 matrix products on TF32 tensor cores
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True

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

    def share(self, n: int) -> slice:
        """A contiguous share of n rows for this rank; shares may differ by one (evaluation)."""
        bounds = [n * r // self.world_size for r in range(self.world_size + 1)]
        return slice(bounds[self.rank], bounds[self.rank + 1])

    # ------------------------------------------------------------------ collectives
    def agree(self, loss: torch.Tensor, grad_norm: torch.Tensor, stop: bool, seconds: float):
        """(mean loss, grad norm, any rank wants to stop, mean seconds) — one all-reduce."""
        v = torch.stack(
            [
                loss.float(),
                grad_norm.float(),
                torch.tensor(float(stop), device=loss.device),
                torch.tensor(seconds, device=loss.device),
            ]
        ).double()
        if self.world_size > 1:
            import torch.distributed as dist

            dist.all_reduce(v)
            v /= self.world_size
        loss_value, norm_value, stop_value, secs = v.tolist()
        return loss_value, norm_value, stop_value > 0, secs

    def sum_over_ranks(self, total: float, count: int) -> tuple[float, int]:
        if self.world_size == 1:
            return total, count
        import torch.distributed as dist

        v = torch.tensor([total, float(count)], dtype=torch.float64, device=self.device)
        dist.all_reduce(v)
        return float(v[0]), int(v[1])

    def gather_rows(self, state):
        """Every rank's carried state, concatenated along the batch (stream) dimension."""
        if state is None or self.world_size == 1:
            return state
        import torch.distributed as dist

        gathered = []
        for s in state:
            parts = [torch.empty_like(s) for _ in range(self.world_size)]
            dist.all_gather(parts, s.contiguous())
            gathered.append(torch.cat(parts, dim=1))
        return tuple(gathered)

    def close(self, clean: bool = True) -> None:
        """Leave the process group (exiting without it can abort gloo's threads); after an
        error, without waiting for the other ranks."""
        if self.world_size > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                if clean:
                    dist.barrier()
                dist.destroy_process_group()

    def barrier(self) -> None:
        if self.world_size > 1:
            import torch.distributed as dist

            dist.barrier()

    def weights_agree(self, model: torch.nn.Module) -> bool:
        """Whether every rank holds the same weights (a fingerprint compared across ranks)."""
        import torch.distributed as dist

        with torch.no_grad():
            fp = torch.stack(
                [p.double().sum() + (p.double() ** 2).sum() for p in model.parameters()]
            )
        parts = [torch.empty_like(fp) for _ in range(self.world_size)]
        dist.all_gather(parts, fp)
        return all(torch.equal(parts[0], q) for q in parts[1:])

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if self.world_size == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)


def from_environment(device: str = "auto", precision: str = "fp32") -> Runtime:
    """The runtime for this process: a single process, or one rank of a `torchrun` job (RANK,
    WORLD_SIZE and LOCAL_RANK in the environment; gloo on CPU, NCCL on CUDA)."""
    import os

    world = int(os.environ.get("WORLD_SIZE", "1"))
    dev = pick_device(device)
    if world == 1:
        return Runtime(dev, precision)
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if dev.type == "cuda":
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Runtime(dev, precision, rank, world)
