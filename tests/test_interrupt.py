"""Ctrl-C (and SIGTERM) anywhere outside training: exit 130 (143), one line, and no half-written
file left behind. Training's own signal handling (a checkpoint, then exit) is in test_crash.py."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import make_text

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_sampling_exits_with_its_code_and_one_line(run_dir, sig, code):
    run, _ = run_dir
    proc = subprocess.Popen(
        [sys.executable, "-m", "charrnn", "sample", str(run), "--length", "100000000",
         "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
    )  # fmt: skip
    assert proc.stdout.read(200)  # it is streaming: interrupt it mid-sample
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    err = err.decode()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    assert err.strip().splitlines()[-1] == (
        f"error: interrupted ({name}); files being written were not left behind."
    )


def _interrupt_on_fsync(*args):
    """A real SIGINT at the worst moment: the output half written."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(5)  # the handler raises here
    raise AssertionError("SIGINT was not handled")


@pytest.mark.parametrize("action", ["eval --html", "inspect --out", "prepare", "corpus synth"])
def test_ctrl_c_while_writing_leaves_no_partial_file(cli, run_dir, tmp_path, monkeypatch, action):
    run, corpus = run_dir
    text = tmp_path / "text.txt"
    text.write_text(make_text(40, seed=3), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    args = {
        "eval --html": ["eval", run, text, "--html", out / "page.html"],
        "inspect --out": ["inspect", run, text, "--out", out / "acts.npz"],
        "prepare": ["prepare", text, "--cache-dir", out, "--unit", "byte"],
        "corpus synth": ["corpus", "synth", "quotes", "--out", out / "synth.txt"],
    }[action]
    monkeypatch.setattr(os, "fsync", _interrupt_on_fsync)
    code, _, err = cli(*args)
    assert code == 130, err
    assert err.strip().splitlines() == [
        "error: interrupted (Ctrl-C); files being written were not left behind."
    ]
    left = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    assert left == [], left
