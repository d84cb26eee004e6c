"""torchrun with 2 CPU processes (gloo on 127.0.0.1): the global batch is split across ranks,
so the run matches a single process with the same global batch."""

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

TORCHRUN = shutil.which("torchrun", path=str(Path(sys.executable).parent))
FLAGS = "--hidden-size 16 --embed-size 8 --batch-size 4 --seq-len 16 --eval-every 12 "
FLAGS += "--log-every 1 --seed 3 --quiet --device cpu"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(TORCHRUN is None, reason="torchrun not next to this Python"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def charrnn(args: str, tmp_path: Path, procs: int = 1) -> None:
    """`charrnn ARGS`, in one process or under torchrun; fails with every rank's output."""
    if procs == 1:
        cmd = [sys.executable, "-m", "charrnn"]
    else:
        logs = tmp_path / f"logs{_free_port()}"
        cmd = [
            TORCHRUN,
            f"--nproc-per-node={procs}",
            "--master-addr=127.0.0.1",
            f"--master-port={_free_port()}",
            f"--log-dir={logs}",
            "--redirects=3",
            "-m",
            "charrnn",
        ]
    done = subprocess.run(cmd + args.split(), capture_output=True, text=True, env=ENV, timeout=300)
    if done.returncode != 0:
        rank_logs = (
            ""
            if procs == 1
            else "".join(f"--- {p}\n{p.read_text()}" for p in sorted(logs.rglob("*.log")))
        )
        pytest.fail(f"exit {done.returncode}\n{done.stderr[-2500:]}\n{rank_logs[-4000:]}")


def _records(run: Path, kind: str) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_two_processes_match_one(text_file, tmp_path):
    charrnn(f"train {text_file} --out {tmp_path / 'one'} --max-steps 24 {FLAGS}", tmp_path)
    charrnn(f"train {text_file} --out {tmp_path / 'two'} --max-steps 24 {FLAGS}", tmp_path, 2)
    one, two = _records(tmp_path / "one", "train"), _records(tmp_path / "two", "train")
    assert len(one) == len(two) == 24
    # The same sums in another order: equal to ~1e-7 at first, drifting to ~2e-4 by step 24. A
    # wrong split or an unaveraged gradient is off by far more (grad_norm by a factor of 2).
    for a, b in zip(one, two, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-3)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-2)
    va, vb = _records(tmp_path / "one", "val"), _records(tmp_path / "two", "val")
    assert [v["val_loss"] for v in vb] == pytest.approx([v["val_loss"] for v in va], rel=1e-4)
    done = _records(tmp_path / "two", "done")
    assert len(done) == 1 and done[0]["ranks_agree"] is True  # both ranks hold the same weights
    files = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert files == ["best.ckpt", "latest.ckpt", "metrics.jsonl", "train.lock"]  # rank 0 wrote


def test_resume_with_another_number_of_processes(text_file, tmp_path):
    """Stopped at step 12 with 2 processes, resumed for 12 more with 1: the same curve as 24
    steps in one.
    (A constant learning rate, so that stopping at 12 does not change the schedule.)"""
    flags = f"{FLAGS} --min-lr-frac 1 --warmup-steps 0"
    charrnn(f"train {text_file} --out {tmp_path / 'whole'} --max-steps 24 {flags}", tmp_path)
    charrnn(f"train {text_file} --out {tmp_path / 'part'} --max-steps 12 {flags}", tmp_path, 2)
    charrnn(f"train {text_file} --resume {tmp_path / 'part'} --max-steps 12 --quiet", tmp_path)
    a = [r["loss"] for r in _records(tmp_path / "whole", "train")]
    b = [r["loss"] for r in _records(tmp_path / "part", "train")]
    assert b == pytest.approx(a, rel=1e-3)  # float drift only, as above
