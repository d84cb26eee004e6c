"""The Python API (charrnn.load / .sample / .loss / .activations, charrnn.train) and `charrnn
export`: the package holds no local path and no validation text, and samples like the run."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import charrnn
from charrnn.files import checkpoint
from charrnn.inspection import dumps
from tests.conftest import TINY_TRAIN, make_text


def test_sample_matches_the_cli_and_needs_no_torch(cli, run_dir):
    run, _ = run_dir
    code, out, _ = cli("sample", run, "-n", "40", "--seed", "5", "--prime", "x(")
    assert charrnn.load(run).sample(prime="x(", length=40, seed=5) + "\n" == out
    script = (
        "import sys, charrnn\n"
        f"print(len(charrnn.load({str(run)!r}).sample(length=30, seed=1)))\n"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["30", "False"], done.stderr


def test_loss_agrees_with_eval_and_activations_with_inspect(cli, run_dir, tmp_path):
    run, corpus = run_dir
    text = corpus.read_text(encoding="utf-8")[:3000]
    m = charrnn.load(run)
    loss = m.loss(text)
    assert loss.chars == len(text) - 1 and loss.bpc == pytest.approx(loss.nats / np.log(2))
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    acts = m.activations(text[:200], layers=[0], units=[1, 2])
    code, _, _ = cli("inspect", run, path, "--max-chars", "200", "--units", "1-2", "--out",
                     tmp_path / "a.npz")  # fmt: skip
    dump = dumps.read(tmp_path / "a.npz")
    assert code == 0 and set(acts["arrays"]) == set(dump["arrays"])
    for q, a in acts["arrays"].items():
        np.testing.assert_allclose(a, dump["arrays"][q], atol=1e-6)
    np.testing.assert_allclose(acts["probs"], dump["probs"], atol=1e-6)


def test_train_returns_the_runs_figures_and_shows_progress(text_file, tmp_path, capsys):
    import os

    seen = []
    run = charrnn.train(text_file, out=tmp_path / "api", max_steps=5, hidden_size=8,
                        embed_size=4, batch_size=2, seq_len=8, eval_every=5, log_every=1,
                        progress=seen.append)  # fmt: skip
    records = [json.loads(x) for x in (tmp_path / "api" / "metrics.jsonl").read_text().splitlines()]
    val = next(r for r in records if r["kind"] == "val")
    test = next(r for r in records if r["kind"] == "test")
    assert (run.steps, run.best_step, run.stopped_by) == (5, 5, "limit")
    assert run.best_val_bpc == pytest.approx(val["val_bpc"]) and run.test_bpc == test["test_bpc"]
    assert run.train_seconds > 0 and run.chars_per_s > 0 and run.expected_chars_per_s is None
    assert [r["kind"] for r in seen].count("train") == 5 and seen[-1]["kind"] == "done"
    assert os.fspath(run) == str(tmp_path / "api") and (Path(run) / "best.ckpt").exists()
    assert checkpoint.read(run).meta["position"]["step"] == 5
    capsys.readouterr()
    charrnn.train(text_file, out=tmp_path / "shown", max_steps=3, hidden_size=8, embed_size=4,
                  batch_size=2, seq_len=8)  # fmt: skip
    shown = capsys.readouterr().err
    assert "model: 1x8 lstm" in shown and "test loss" in shown, shown
    charrnn.train(text_file, out=tmp_path / "quiet", max_steps=3, hidden_size=8, embed_size=4,
                  batch_size=2, seq_len=8, progress=False)  # fmt: skip
    assert capsys.readouterr().err == ""
    with pytest.raises(charrnn.errors.ConfigError, match="unknown option 'hiden_size'"):
        charrnn.train(text_file, hiden_size=8)


def test_export_holds_no_path_and_no_validation_text_and_samples_like_the_run(
    cli, text_file, tmp_path
):
    run = tmp_path / "run"
    assert cli("train", text_file, "-o", run, "--max-steps", "15", *TINY_TRAIN)[0] == 0
    out = tmp_path / "shared"
    code, _, err = cli("export", run, out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    excerpt = checkpoint.read(run).meta["val_excerpt"]
    for p in out.iterdir():
        content = p.read_bytes().decode("utf-8", "replace")
        assert str(tmp_path) not in content and "/tmp" not in content, p
        assert excerpt[:60] not in content and excerpt[-60:] not in content, p
    card = (out / "README.md").read_text()
    assert "bits/char" in card and "charrnn train corpus.txt" in card and "## A sample" in card
    config = json.loads((out / "config.json").read_text())
    assert config["model_config"]["hidden_size"] == 16 and config["vocab"]["symbols"]
    code, a, _ = cli("sample", run, "-n", "60", "--seed", "9")
    code2, b, _ = cli("sample", out, "-n", "60", "--seed", "9")
    assert code == code2 == 0 and a == b
    assert charrnn.load(out).sample(length=60, seed=9) == charrnn.load(run).sample(
        length=60, seed=9
    )
    text = make_text(20, seed=4)
    assert charrnn.load(out).loss(text) == charrnn.load(run).loss(text)
