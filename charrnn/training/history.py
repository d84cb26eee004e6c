"""A run as a whole, however many sessions it took. `best.ckpt` stops at the best validation and
each session's training config describes that session only, so `charrnn info`, the model card
and the report read a run through `summarize`: total steps and time from the run's latest
checkpoint, the best checkpoint's step on its own line, every session with the options it was
started with, and the test figure (kept inside an export, which has no metrics file).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from charrnn.errors import CheckpointError
from charrnn.files.format import LATEST, read_header
from charrnn.options import declaration, declared_fields, flag_of
from charrnn.training.config import STOP_FIELDS, TrainConfig
from charrnn.training.events import Test, read_metrics


@dataclass(frozen=True)
class RunSummary:
    steps: int = 0  # the run's last step (latest.ckpt), not the best checkpoint's
    epoch: int = 0
    train_seconds: float = 0.0
    tokens: int = 0
    best_step: int | None = None  # where the best validation (best.ckpt's weights) was
    best_val_loss: float | None = None
    test_loss: float | None = None  # scored with the best weights at the run's end
    # each session: {"step", "train_seconds" (where it began), "train_config", "extended"}
    sessions: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RunSummary:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def summarize(ckpt) -> RunSummary:
    """The run `ckpt` (a Checkpoint read from a run directory, a checkpoint file or an export)
    belongs to."""
    if ckpt.meta.get("run"):  # an export keeps the summary of the run it came from
        return RunSummary.from_dict(ckpt.meta["run"])
    pos = _latest_position(Path(ckpt.path)) or ckpt.meta.get("position") or {}
    history = pos.get("history") or []
    best = pos.get("best_val_loss")
    best_step = next((h["step"] for h in history if h.get("val_loss") == best), None)
    tests = [r for r in read_metrics(Path(ckpt.path).parent) if r.get("kind") == Test.KIND]
    sessions = pos.get("sessions") or [
        {"step": 0, "train_seconds": 0.0, "train_config": ckpt.meta.get("train_config") or {}}
    ]
    return RunSummary(
        steps=pos.get("step") or 0,
        epoch=pos.get("epoch") or 0,
        train_seconds=pos.get("train_seconds") or 0.0,
        tokens=pos.get("tokens") or 0,
        best_step=best_step,
        best_val_loss=best,
        test_loss=tests[-1]["test_loss"] if tests else None,
        sessions=sessions,
    )


def _latest_position(path: Path) -> dict | None:
    """latest.ckpt's position beside `path` (it runs to the run's last step); None without one."""
    latest = path.parent / LATEST
    if not latest.is_file():
        return None
    try:
        return read_header(latest)[1].get("position")
    except CheckpointError:  # a damaged latest.ckpt: describe what the other file says
        return None


def session_changes(summary: RunSummary) -> list[dict]:
    """For each session after the first, the training options it set: a resume that gave stop
    options trained that much more (only those are its own); any other option given replaced
    the saved one."""
    changes = []
    sessions = summary.sessions
    for before, now in zip(sessions, sessions[1:], strict=False):
        old, new = before.get("train_config") or {}, now.get("train_config") or {}
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if now.get("extended"):
            changed = {k: v for k, v in changed.items() if k not in STOP_FIELDS or v is not None}
        else:
            changed = {k: v for k, v in changed.items() if k not in STOP_FIELDS}
        changes.append(changed)
    return changes


def session_spans(summary: RunSummary) -> list[tuple[int, int, float]]:
    """(first step, last step, seconds) of each session."""
    starts = [(s.get("step") or 0, s.get("train_seconds") or 0.0) for s in summary.sessions]
    if not starts:
        return []
    ends = [*starts[1:], (summary.steps, summary.train_seconds)]
    return [(a, b, t1 - t0) for (a, t0), (b, t1) in zip(starts, ends, strict=True)]


def option_flags(cls, values: dict, every: bool) -> list[str]:
    """`values` (config field -> value) as the flags each option's declaration spells; values
    at their defaults left out unless `every`."""
    flags = []
    for f in declared_fields(cls):
        spelled = flag_of(f).lstrip("-").replace("-", "_")  # data_config's "unit"
        if f.name not in values and spelled not in values:
            continue
        value, declared = values.get(f.name, values.get(spelled)), declaration(f)
        if not declared.cli or value is None or (value == f.default and not every):
            continue
        shown = declared.show(value) if declared.show else value
        flags.append(flag_of(f) if value is True else f"{flag_of(f)} {shown}")
    return flags


def session_lines(summary: RunSummary) -> list[str]:
    """One line per session: its steps, its time and the stop options it ran under."""
    lines = []
    changes = [{}, *session_changes(summary)]
    for i, ((start, end, seconds), changed) in enumerate(
        zip(session_spans(summary), changes, strict=True)
    ):
        if i == 0:
            config = summary.sessions[0].get("train_config") or {}
            stop = {k: config.get(k) for k in STOP_FIELDS}
            how = "started with " + (" ".join(option_flags(TrainConfig, stop, True)) or "no limit")
        else:
            flags = " ".join(option_flags(TrainConfig, changed, True))
            how = "resumed" + (f" with {flags}" if flags else "")
        shown = f"{seconds:.1f}" if seconds < 10 else f"{seconds:,.0f}"
        lines.append(f"steps {start:,}-{end:,}, {shown} s, {how}")
    return lines
