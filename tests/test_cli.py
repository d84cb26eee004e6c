"""The CLI as a user runs it: train -> info -> sample -> inspect -> eval, and bad input."""

import json
import subprocess
import sys

import pytest

from charrnn.inspection import dumps
from tests.conftest import TINY_TRAIN


def test_train_writes_run_directory(run_dir):
    run, _ = run_dir
    assert {p.name for p in run.iterdir()} >= {"best.ckpt", "latest.ckpt", "metrics.jsonl"}


def test_info(cli, run_dir):
    run, _ = run_dir
    code, out, _ = cli("info", run / "latest.ckpt", "--json")
    info = json.loads(out)
    assert code == 0 and info["step"] == 20 and info["model_config"]["hidden_size"] == 16
    assert info["resumable"] and info["best_val_bpc"] > 0
    code, out, _ = cli("info", run)
    assert code == 0 and "best val" in out and "weights only" in out


def test_sample_streams_only_text_to_stdout(cli, run_dir):
    run, _ = run_dir
    code, out, err = cli("sample", run, "--length", "40", "--seed", "3", "--prime", "print(")
    assert code == 0 and out.startswith("print(") and len(out) == len("print(") + 40 + 1
    assert cli("sample", run, "--length", "40", "--seed", "3", "--prime", "print(")[1] == out
    code, out, err = cli("sample", run, "-n", "10", "--num-samples", "3", "--seed", "1")
    assert code == 0 and out.count("\n") >= 3 and "sample 3 of 3" in err


def test_inspect_npz_and_json(cli, run_dir, tmp_path):
    run, corpus = run_dir
    code, _, _ = cli("inspect", run, corpus, "--out", tmp_path / "a.npz", "--max-chars", "50")
    assert code == 0
    dump = dumps.read(tmp_path / "a.npz")
    assert len(dump["text"]) == 50 and dump["arrays"]["h"].shape == (1, 50, 16)
    assert set(dump["arrays"]) == {"h", "c", "i", "f", "g", "o"}
    code, _, _ = cli(
        "inspect",
        run,
        "--text",
        "alpha(x)",
        "--out",
        tmp_path / "a.json",
        "--units",
        "0-3,7",
        "--layer",
        "0",
    )
    doc = dumps.read(tmp_path / "a.json")
    assert code == 0 and doc["units"] == [0, 1, 2, 3, 7] and doc["arrays"]["g"].shape == (1, 8, 5)


def test_eval_summary_json_and_page_give_one_number(cli, run_dir, tmp_path):
    """Every character after the first, the state carried: the same figure in all three places,
    on a text whose length is a multiple of nothing (4999 = 4999 x 1)."""
    import math
    import re

    run, corpus = run_dir
    text = tmp_path / "odd.txt"
    text.write_text((corpus.read_text(encoding="utf-8") * 2)[:4999], encoding="utf-8")
    code, out, _ = cli("eval", run, text, "--json")
    result = json.loads(out)
    assert code == 0 and result["chars"] == 4998 and result["protocol"] == "carried"
    assert result["bpc"] == pytest.approx(result["loss"] / math.log(2), rel=1e-12)
    code, line, err = cli("eval", run, text, "--html", tmp_path / "p.html")
    assert code == 0 and "4,998 characters" in line and "state carried" in line
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    printed = re.search(r"([\d.]+) bits/char \(([\d.]+) nats/char\)", line).groups()
    assert printed == (f"{result['bpc']:.4f}", f"{result['loss']:.4f}")
    assert f"{printed[0]} bits/char ({printed[1]} nats/char) over 4,998 characters" in page
    import charrnn

    assert charrnn.load(run).loss(text.read_text(encoding="utf-8")).nats == result["loss"]
    from charrnn.files.checkpoint import load_model
    from charrnn.inference.evaluate import char_losses

    model, vocab, _ = load_model(run)
    bits, _ = char_losses(model, vocab.encode(text.read_text(encoding="utf-8")))
    assert bits[1:].mean() == pytest.approx(result["bpc"], rel=1e-6)  # the page's per-char bits


def test_resume_from_directory_continues(cli, run_dir, tmp_path):
    run, corpus = run_dir
    import shutil

    shutil.copytree(run, tmp_path / "copy")
    code, out, _ = cli(
        "train", corpus, "--resume", tmp_path / "copy", "--max-steps", "30", "--quiet"
    )
    assert code == 0 and "50 steps" in out  # 30 more on top of 20


def _one_line_error(code, err, expect_code=2):
    lines = [x for x in err.strip().splitlines() if x.strip()]
    return code == expect_code and len(lines) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "args,needle,exit_code",
    [
        (["train", "missing.txt"], "no such file", 1),
        (["train", "{tmp}"], "is a directory", 1),
        (["train", "{empty}"], "empty", 1),
        (["train", "{short}", "--batch-size", "64"], "smaller --batch-size", 2),
        (["train", "{binary}"], "--unit byte", 1),
        (["train", "{corpus}", "--model", "transformer"], "transformer", 2),
        (["train", "{corpus}", "--hidden-size", "0"], "--hidden-size", 2),
        (["train", "{corpus}", "--num-layers", "-1"], "--num-layers", 2),
        (["train", "{corpus}", "--lr", "0"], "--lr", 2),
        (["train", "{corpus}", "--time", "soon"], "--time", 2),
        (["train", "{corpus}", "--out", "{corpus}"], "is a file", 2),
        (["sample", "{foreign}"], "not a charrnn checkpoint", 1),
        (["sample", "missing.ckpt"], "no such checkpoint", 1),
        (["sample", "{run}", "--temperature", "0"], "--temperature", 2),
        (["sample", "{run}", "--prime", "€uro"], "'€'", 2),
        (["eval", "{foreign}", "{corpus}"], "not a charrnn checkpoint", 1),
        (["inspect", "{run}", "--text", "abc"], "--out", 2),
        (["inspect", "{run}", "--text", "abc", "--out", "x.npz", "--layer", "5"], "--layer 5", 2),
    ],
)
def test_bad_input_one_line_and_exit_code(cli, run_dir, tmp_path, args, needle, exit_code):
    run, corpus = run_dir
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "short.txt").write_text("tiny text")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "foreign.ckpt").write_bytes(b"PK\x03\x04 not a checkpoint at all")
    names = dict(
        tmp=tmp_path,
        empty=tmp_path / "empty.txt",
        short=tmp_path / "short.txt",
        binary=tmp_path / "binary.bin",
        foreign=tmp_path / "foreign.ckpt",
        corpus=corpus,
        run=run,
    )
    argv = [a.format(**names) for a in args]
    if argv[0] == "train" and "--out" not in argv:
        argv += ["--out", str(tmp_path / "out"), "--max-steps", "2", "--quiet"]
    code, out, err = cli(*argv)
    assert _one_line_error(code, err, exit_code), (code, err)
    assert needle in err


def test_existing_run_is_not_overwritten(cli, run_dir):
    run, corpus = run_dir
    before = (run / "best.ckpt").read_bytes()
    code, _, err = cli("train", corpus, "--out", run, "--max-steps", "2")
    assert _one_line_error(code, err) and "--resume" in err
    assert (run / "best.ckpt").read_bytes() == before


def test_python_m_and_help_do_not_import_torch():
    code = (
        "import sys; from charrnn.cli import app; "
        "sys.argv=['charrnn','--help']; import charrnn.cli as c\n"
        "try:\n    c.main(['sample', '--help'])\nexcept SystemExit: pass\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().endswith("False"), out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "charrnn", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "train" in out.stdout


def test_sampling_on_cpu_never_imports_torch(run_dir):
    run, _ = run_dir
    code = (
        "import sys\nfrom charrnn.cli import main\n"
        f"try:\n    main(['sample', {str(run)!r}, '-n', '20', '--seed', '1'])\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr.strip() == "False", out.stderr
    assert len(out.stdout) == 21


def test_eval_fresh_windows_is_nanogpts_protocol_by_name(cli, run_dir):
    run, corpus = run_dir
    code, out, _ = cli("eval", run, corpus, "--json", "--fresh-windows", "--window-length", "64")
    fresh = json.loads(out)
    code2, out2, _ = cli("eval", run, corpus, "--json")
    carried = json.loads(out2)
    assert code == code2 == 0 and fresh["protocol"] == "windows" and fresh["window"] == 64
    assert fresh["chars"] % 64 == 0 and fresh["chars"] < carried["chars"]
    assert fresh["loss"] > 0 and carried["loss"] > 0 and fresh["loss"] != carried["loss"]


def test_grad_flow_table_json_and_compare(cli, run_dir, tmp_path):
    run, corpus = run_dir
    code, out, err = cli(
        "inspect", run, corpus, "--grad-flow", "--horizon", "8", "--windows", "4", "--json"
    )
    flow = json.loads(out)
    assert code == 0 and len(flow["h"][0]) == 9 and len(flow["c"][0]) == 9
    code, out, _ = cli("inspect", run, corpus, "--grad-flow", "--horizon", "8", "--compare", run)
    assert code == 0 and "[2]" in out and "per step back" in out
    code, _, _ = cli(
        "inspect",
        run,
        corpus,
        "--grad-flow",
        "--horizon",
        "8",
        "--html",
        tmp_path / "g.html",
        "--max-chars",
        "500",
    )
    assert code == 0 and "Gradient flow" in (tmp_path / "g.html").read_text()


def test_report_page(cli, run_dir, tmp_path):
    run, _ = run_dir
    code, out, err = cli("report", run, "--out", tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert code == 0, err
    assert page.count("<svg") >= 3 and "polyline" in page  # loss, gradient-norm, clipping
    assert page.count("temperature") >= 3 and "Units" in page and "<script" not in page


def test_full_disk_during_training_keeps_the_previous_checkpoint(
    cli, text_file, tmp_path, monkeypatch
):
    import os

    from charrnn.files import checkpoint

    real_save, saves = checkpoint.save, {"n": 0}

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    def save(*args, **kwargs):  # the step-10 checkpoints (best, latest) fit; then the disk is full
        saves["n"] += 1
        if saves["n"] <= 2:
            return real_save(*args, **kwargs)
        with monkeypatch.context() as m:
            m.setattr(os, "fsync", disk_full)
            return real_save(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "save", save)
    code, _, err = cli(
        "train", text_file, "--out", tmp_path / "run", "--max-steps", "20", *TINY_TRAIN
    )
    assert _one_line_error(code, err, 1) and "No space left" in err and "is intact" in err
    ckpt = checkpoint.read(tmp_path / "run" / "latest.ckpt", groups=("model", "optim", "state"))
    assert ckpt.meta["position"]["step"] == 10  # the last checkpoint written whole still loads
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "options",
    [
        ["--lr", "0"],
        ["--lr", "nan"],
        ["--val-frac", "0.5", "--test-frac", "0.45"],
        ["--precision", "fp16"],
        ["--device", "cuda"],
        ["--out", "{corpus}"],
        ["--out", "{run}"],
        ["--resume", "{missing}"],
        ["--hidden-size", "200000", "--num-layers", "8"],
        ["--threads", "0"],
        ["--max-vocab", "1"],
        ["--dropout", "1"],
        ["--time", "0s"],
    ],
)
def test_bad_options_fail_before_the_corpus_is_read(cli, run_dir, tmp_path, monkeypatch, options):
    """A bad option on a big file is refused before a byte of it is hashed or encoded."""
    from charrnn.data import corpus as corpus_module

    run, corpus = run_dir
    big = tmp_path / "big.txt"
    big.write_bytes(b"the quick brown fox\n" * (2 << 20))  # 40 MB: the token-cache path

    def never(*args, **kwargs):
        raise AssertionError("the corpus was read")

    monkeypatch.setattr(corpus_module, "prepare", never)
    monkeypatch.setattr(corpus_module, "file_sha256", never)
    names = dict(corpus=corpus, run=run, missing=tmp_path / "nothing")
    argv = ["train", big, *[o.format(**names) for o in options]]
    if "--out" not in options and "--resume" not in options:
        argv += ["--out", tmp_path / "out"]
    code, out, err = cli(*argv, "--max-steps", "2")
    assert code in (1, 2) and "Traceback" not in err and "the corpus was read" not in err, err
    assert len([x for x in err.splitlines() if x.strip()]) == 1, err


def test_bf16_on_a_cpu_without_a_bf16_lstm_is_one_line(cli, text_file, tmp_path, monkeypatch):
    """oneDNN raises on bf16 LSTMs on CPUs without AVX512; that is a refusal, not a traceback."""
    from charrnn import runtime

    runtime.cpu_runs_bf16_lstm()  # the real probe runs, whatever this CPU answers
    monkeypatch.setattr(runtime, "cpu_runs_bf16_lstm", lambda: False)
    code, _, err = cli("train", text_file, "--precision", "bf16", "--out", tmp_path / "r")
    assert _one_line_error(code, err, 2) and "--precision fp32" in err, err
    assert not (tmp_path / "r").exists()


def test_help_texts_render_as_written(cli):
    code, out, _ = cli("inspect", "--help")
    assert code == 0 and "[layer, time, unit]" in " ".join(out.split())
    assert "START:END" in out and "🔚" not in out


@pytest.mark.parametrize("argv", [[], ["corpus"]])
def test_no_arguments_print_the_help_and_succeed(cli, argv):
    code, out, err = cli(*argv)
    assert code == 0 and "Usage:" in out and "error" not in err


def test_a_closed_pipe_is_success(run_dir):
    """`charrnn sample RUN | head -c 50` exits 0, even under `set -o pipefail`."""
    run, _ = run_dir
    cmd = f"{sys.executable} -m charrnn sample {run} -n 200000 --seed 1"
    script = f"set -o pipefail; {cmd} | head -c 50"
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0 and len(proc.stdout) == 50 and not proc.stderr, proc.stderr


def test_version_examples_and_completion(cli):
    from charrnn import __version__

    code, out, _ = cli("--version")
    assert code == 0 and out.strip() == f"charrnn {__version__}"
    for command in ("train", "sample", "inspect", "eval", "info", "report", "export", "bench",
                    "prepare"):  # fmt: skip
        code, out, _ = cli(command, "--help")
        assert code == 0 and "Examples:" in out and f"charrnn {command} " in out, command
    code, out, _ = cli("--help")
    assert "--install-completion" in out and "--show-completion" in out


def test_metrics_carry_a_timestamp_and_tensorboard_gets_the_curves(cli, text_file, tmp_path):
    import time

    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    started = time.time()
    run, board = tmp_path / "run", tmp_path / "tb"
    code, _, err = cli("train", text_file, "-o", run, "--max-steps", "20", "--tensorboard",
                       board, *TINY_TRAIN)  # fmt: skip
    assert code == 0, err
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(started - 1 <= r["time"] <= time.time() for r in records)
    events = EventAccumulator(str(board))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "val/bpc", "test/bpc"} <= tags
    losses = [e.value for e in events.Scalars("train/loss")]
    trained = [r["loss"] for r in records if r["kind"] == "train"]
    assert losses == pytest.approx(trained, rel=1e-6)


def test_tensorboard_missing_is_one_line_before_any_work(cli, text_file, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "tensorboard" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    code, _, err = cli("train", text_file, "-o", tmp_path / "r", "--tensorboard", tmp_path / "t")
    assert code == 2 and "pip install 'charrnn[tensorboard]'" in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
