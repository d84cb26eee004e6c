"""benchmarks/gpu.sh, the prepared GPU check, runs end to end — here on the CPU with tiny budgets,
so its plumbing (commands, options, files, the summary) is known to work before a GPU is lent."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_text

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_script_runs_on_the_cpu(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name, seed in (("warpeace", 1), ("tinyshakespeare", 2)):
        (data / f"{name}.txt").write_text(make_text(3000, seed=seed), encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "DEVICE": "cpu", "WP_TIME": "3s", "TS_TIME": "3s",
           "BENCH_SECONDS": "0.2", "SAMPLES": "8", "STEPS": "4", "DATA": str(data),
           "OUT": str(out), "RUNS": str(tmp_path / "runs"), "PYTHON": sys.executable,
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(["bash", "benchmarks/gpu.sh"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    files = {p.name for p in out.iterdir()}
    assert {"device.txt", "bench.json", "bench.txt", "warpeace.txt", "nanogpt_eval.json",
            "sample.txt", "torchrun.txt", "summary.md"} <= files  # fmt: skip
    summary = (out / "summary.md").read_text()
    assert "warpeace: best val" in summary and "nanoGPT protocol" in summary
    assert "chars/s" in (out / "sample.txt").read_text()
    assert '"kind": "done"' in (out / "torchrun.txt").read_text()
