"""A run's `metrics.jsonl`: one JSON record per progress line, validation, test and event of a
run, appended as they happen; `charrnn report` and `charrnn export` read it back. Torch-free.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from charrnn.errors import CheckpointError
from charrnn.fileio import atomic_write_bytes, remove_stale_temps

METRICS = "metrics.jsonl"


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
