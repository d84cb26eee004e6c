"""The records of a training run, written down in one place: `metrics.jsonl` holds one JSON
object per line, and `on_event` callbacks (the terminal view, TensorBoard, `charrnn.train`'s
`on_event=`) receive the same dicts. Each kind is a dataclass below, its fields are the record's
keys beside `"kind"`, and the file adds `"time"` (Unix seconds) to each line. People read this
file with their own tools, so a field is added, never renamed; docs/formats.md lists them
(generated from this module).

Torch-free: `charrnn report` and `charrnn export` read the file back without training anything.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, fields, is_dataclass
from pathlib import Path
from typing import ClassVar

from charrnn.errors import CheckpointError
from charrnn.fileio import atomic_write_bytes, remove_stale_temps
from charrnn.training.autosize import Plan

METRICS = "metrics.jsonl"


@dataclass(frozen=True)
class Start:
    """A session of the run begins (a new run, or a resume)."""

    KIND: ClassVar[str] = "start"
    step: int
    epoch: int
    steps_per_epoch: int
    chars_per_epoch: int
    params: int  # parameters of the model
    train_chars: int
    val_chars: int
    test_chars: int
    config: dict  # the TrainConfig
    model_config: dict
    world_size: int  # processes of a torchrun job
    precision: str
    device: str
    resumed: bool


@dataclass(frozen=True)
class Train:
    """Progress: averages over the steps since the previous train record (every --log-every)."""

    KIND: ClassVar[str] = "train"
    step: int
    epoch: int
    epoch_frac: float  # epochs done, with the fraction of the current one
    loss: float  # nats per character, mean over the finite steps
    lr: float  # of the last step
    grad_norm: float  # global norm before clipping, mean
    clip_frac: float  # fraction of the steps clipped
    chars_per_s: float  # training characters per second, all processes together
    train_seconds: float
    progress: float  # fraction of the budget used (steps, epochs or time)


@dataclass(frozen=True)
class Val:
    """A validation (every --eval-every steps, and at the end)."""

    KIND: ClassVar[str] = "val"
    step: int
    epoch: int
    val_loss: float  # nats per character
    val_bpc: float  # the same in bits
    best: bool  # the best so far: best.ckpt now holds these weights
    train_seconds: float


@dataclass(frozen=True)
class Test:
    """The test split scored once at the end, with the best weights."""

    KIND: ClassVar[str] = "test"
    step: int
    test_loss: float
    test_bpc: float


@dataclass(frozen=True)
class Checkpoint:
    """latest.ckpt written outside the validation schedule (an interrupted run)."""

    KIND: ClassVar[str] = "checkpoint"
    step: int
    reason: str  # "interrupted"
    path: str


@dataclass(frozen=True)
class NonFinite:
    """A step whose loss or gradient was not finite: its update was skipped."""

    KIND: ClassVar[str] = "nonfinite"
    step: int
    loss: float
    grad_norm: float
    in_a_row: int  # the run stops at training.loop.MAX_BAD_STEPS


@dataclass(frozen=True)
class Done:
    """The run reached its budget."""

    KIND: ClassVar[str] = "done"
    step: int
    best_val_loss: float | None
    train_seconds: float
    ranks_agree: bool | None = None  # torchrun: every process ended with the same weights
    chars_per_s: float | None = None  # this session's training rate (median of its records)
    expected_chars_per_s: float | None = None  # what autosize's measurement predicted, if sized


@dataclass(frozen=True)
class Note:
    """Something the user should know (not written to metrics.jsonl)."""

    KIND: ClassVar[str] = "note"
    text: str


@dataclass(frozen=True)
class Autosize:
    """What `--time` without sizes chose, and why (not written to metrics.jsonl): the cell
    kind beside every field of training.autosize.Plan."""

    KIND: ClassVar[str] = "autosize"
    model: str
    plan: Plan  # flattened into the record: its fields beside model


def session_rate(rates: list[float]) -> float | None:
    """A session's training rate from its train records' rates: their median, the first (which
    holds the warm-up) left out when there are others; as autosize's loop measurement takes it."""
    kept = rates[1:] or rates
    return float(statistics.median(kept)) if kept else None


EVENTS = (Start, Train, Val, Test, Checkpoint, NonFinite, Done, Note, Autosize)


class TrainAverages:
    """Sums over the steps since the last train record, and their averages for it."""

    def __init__(self):
        self.steps = 0
        self.loss = self.norm = self.clipped = self.chars = self.seconds = self.lr = 0.0

    def add(self, loss, norm, clipped, chars, seconds, lr):
        self.lr = lr
        if math.isfinite(loss):
            self.steps += 1
            self.loss += loss
            self.norm += norm
            self.clipped += clipped
        self.chars += chars
        self.seconds += seconds

    def flush(self, world_size: int) -> dict:
        n = max(self.steps, 1)
        out = {
            "loss": self.loss / n,
            "lr": self.lr,
            "grad_norm": self.norm / n,
            "clip_frac": self.clipped / n,
            "chars_per_s": self.chars * world_size / max(self.seconds, 1e-9),
        }
        self.__init__()
        return out


def record(event) -> dict:
    """The event as the dict callbacks receive and metrics.jsonl holds (without "time"):
    "kind" first, dataclass fields flattened, optional fields (default None) left out when
    not set."""
    out = {"kind": event.KIND}
    for f in fields(event):
        value = getattr(event, f.name)
        if is_dataclass(value):
            out.update(asdict(value))
        elif value is not None or f.default is not None:
            out[f.name] = value
    return out


def read_metrics(run_dir: Path) -> list[dict]:
    """The records of a run's metrics file (none if it has none); lines a crash cut short are
    skipped."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class MetricsFile:
    """metrics.jsonl in the run directory. On resume, records past the resumed step (written
    after the checkpoint, before the interruption) are dropped so the curve has no duplicates."""

    def __init__(self, path: Path, enabled: bool, keep_until: int):
        self.path, self.enabled = path, enabled
        if not enabled:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = []
        if keep_until and path.exists():
            kept = [r for r in read_metrics(path.parent) if r.get("step", 0) <= keep_until]
        payload = "".join(json.dumps(r) + "\n" for r in kept).encode()
        atomic_write_bytes(
            path,
            payload,
            what="metrics",
            error=CheckpointError,
            hint="Free disk space or choose another --out directory.",
        )
        remove_stale_temps(path.parent)

    def write(self, record: dict) -> None:
        """Appends the record with the time it was written (Unix seconds)."""
        if self.enabled:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps({**record, "time": round(time.time(), 3)}) + "\n")
