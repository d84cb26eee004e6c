"""Crash safety of real training processes: kill -9 at random moments, SIGINT and SIGTERM.

After every kill the run's latest checkpoint must load and `--resume` must continue. The quick
version runs 5 kills; the slow one (also run by CI) 25, spread by random delays over steps,
evaluations and checkpoint writes (a checkpoint is written every 2 steps).
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from charrnn.files import checkpoint
from charrnn.files.format import LATEST

FLAGS = [
    "--hidden-size",
    "96",
    "--embed-size",
    "16",
    "--batch-size",
    "8",
    "--seq-len",
    "32",
    "--eval-every",
    "2",
    "--log-every",
    "1",
    "--max-steps",
    "100000",
    "--quiet",
    "--device",
    "cpu",
]


def _start(text_file, run, resume: bool):
    args = [sys.executable, "-m", "charrnn", "train", str(text_file)]
    args += ["--resume", str(run)] if resume else ["--out", str(run)]
    return subprocess.Popen(
        args + FLAGS,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _wait_for_checkpoint(run, proc, timeout=60):
    deadline = time.time() + timeout
    while not (run / LATEST).exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline, "no checkpoint written"
        time.sleep(0.05)


def _kill_trials(text_file, tmp_path, trials: int, seed: int):
    rng = random.Random(seed)
    run = tmp_path / "run"
    proc = _start(text_file, run, resume=False)
    _wait_for_checkpoint(run, proc)
    steps = []
    for _ in range(trials):
        time.sleep(rng.uniform(0.05, 1.5))
        proc.kill()  # SIGKILL: no handler runs, no cleanup
        proc.wait()
        ckpt = checkpoint.read(run / LATEST, groups=("model", "optim", "state", "rng"))
        checkpoint.build_model(ckpt)  # every weight present and well-formed
        steps.append(ckpt.meta["position"]["step"])
        proc = _start(text_file, run, resume=True)
        while (
            checkpoint.read(run / LATEST, groups=()).meta["position"]["step"] <= steps[-1]
        ):  # resume continues past where it was killed
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert steps == sorted(steps) and steps[-1] > steps[0]
    leftovers = [p.name for p in run.iterdir() if p.name.startswith(".")]
    assert len(leftovers) <= 1  # at most the temp file of the write the last kill interrupted


def test_kill_9_quick(text_file, tmp_path):
    _kill_trials(text_file, tmp_path, trials=5, seed=0)


@pytest.mark.slow
def test_kill_9_full(text_file, tmp_path):
    _kill_trials(text_file, tmp_path, trials=25, seed=1)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_checkpoint_and_exits(text_file, tmp_path, sig, code):
    run = tmp_path / "run"
    proc = _start(text_file, run, resume=False)
    _wait_for_checkpoint(run, proc)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "saved" in err and "--resume" in err and "Traceback" not in err
    ckpt = checkpoint.read(run / LATEST, groups=("model", "optim", "state", "rng"))
    step = ckpt.meta["position"]["step"]
    metrics_steps = [
        json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()
    ]
    assert max(metrics_steps) == step  # the checkpoint holds the last step that ran


def test_a_second_ctrl_c_stops_at_once_without_a_traceback(text_file, tmp_path):
    """Two Ctrl-C in a row: the first asks for a save, the second stops now, whatever it
    interrupts (a step or the save itself); the last whole checkpoint still loads."""
    run = tmp_path / "run"
    proc = _start(text_file, run, resume=False)
    _wait_for_checkpoint(run, proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    checkpoint.build_model(checkpoint.read(run / LATEST))
    assert not list(run.glob(".*.tmp*"))


def test_one_writer_per_run_directory(cli, text_file, tmp_path):
    """A second run into a directory a live run holds is refused, naming the holder; once the
    holder is killed (-9), its lock is taken over."""
    run = tmp_path / "run"
    proc = _start(text_file, run, resume=False)
    try:
        _wait_for_checkpoint(run, proc)
        code, _, err = cli("train", text_file, "--out", run, "--overwrite", "--max-steps", "2")
        lines = [x for x in err.splitlines() if x.strip()]
        assert code == 1 and len(lines) == 1 and f"pid {proc.pid}" in err, err
        code, _, err = cli("train", text_file, "--resume", run, "--max-steps", "2")
        assert code == 1 and f"pid {proc.pid}" in err, err
    finally:
        proc.kill()
        proc.wait()
    code, out, err = cli("train", text_file, "--resume", run, "--max-steps", "3", "--quiet")
    assert code == 0, err


def test_out_of_memory_during_a_run_is_one_line_and_the_checkpoint_survives(text_file, tmp_path):
    import torch

    from charrnn.errors import TrainingError
    from charrnn.training import launch, loop
    from charrnn.training.config import request_from

    def out_of_memory_at_15(position):
        if position.step == 15:
            raise loop.OUT_OF_MEMORY("CUDA out of memory. Tried to allocate 2.00 GiB")

    run = tmp_path / "run"
    request = request_from(
        {
            "file": text_file,
            "out": run,
            "max_steps": 40,
            "hidden_size": 16,
            "embed_size": 8,
            "batch_size": 4,
            "seq_len": 16,
            "eval_every": 10,
        }
    )
    with pytest.raises(TrainingError) as failed:  # the CLI prints it as one line, exit 1
        launch.run(request, hooks=loop.Hooks(before_step=out_of_memory_at_15))
    err = str(failed.value)
    assert "\n" not in err and "out of memory" in err and "--batch-size" in err
    assert failed.value.exit_code == 1
    assert "(step 10) is intact" in err
    ckpt = checkpoint.read(run / LATEST, groups=("model", "optim", "state", "rng"))
    assert ckpt.meta["position"]["step"] == 10 and isinstance(
        ckpt.tensors["rng.torch"], torch.Tensor
    )


def _file_size_limit(limit: int):
    def apply():  # in the child, before exec
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG, not a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE as a full disk: Linux")
def test_a_full_disk_is_one_line_and_the_previous_checkpoint_loads(text_file, tmp_path):
    """A real failed write, not an injected one: the kernel refuses to let the file grow."""
    run = tmp_path / "run"
    train = [sys.executable, "-m", "charrnn", "train", str(text_file)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run(train + ["--out", str(run), *FLAGS, "--max-steps", "4"],
                           capture_output=True, text=True, env=env)  # fmt: skip
    assert first.returncode == 0, first.stderr
    size = (run / LATEST).stat().st_size
    full = subprocess.run(train + ["--resume", str(run), "--max-steps", "4", "--quiet"],
                          capture_output=True, text=True, env=env,
                          preexec_fn=_file_size_limit(size // 2))  # fmt: skip
    lines = [x for x in full.stderr.splitlines() if x.strip()]
    assert full.returncode == 1 and len(lines) == 1, full.stderr
    assert "could not write checkpoint" in full.stderr and "intact" in full.stderr
    assert "Traceback" not in full.stderr
    ckpt = checkpoint.read(run / LATEST, groups=("model", "optim", "state", "rng"))
    assert ckpt.meta["position"]["step"] == 4  # the checkpoint before the failed write
    checkpoint.build_model(ckpt)
    assert not list(run.glob(".*.tmp*"))  # the half-written temp file was removed
