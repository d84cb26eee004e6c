"""A run is described as a whole, whatever sessions it took: `info`, the model card and the
report give its total steps and time, the best checkpoint's step on its own line, every
session, and a card's commands train the same weights again."""

import json
import re
import shlex

import pytest
import torch

from charrnn.files import checkpoint
from tests.conftest import TINY_TRAIN, make_text


@pytest.fixture
def two_sessions(cli, tmp_path, monkeypatch):
    """20 steps, then a resume for 10 more: a run of 30 steps in two sessions."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text(make_text(), encoding="utf-8")
    code, _, err = cli("train", "notes.txt", "--out", "run", "--max-steps", "20", *TINY_TRAIN)
    assert code == 0, err
    code, _, err = cli("train", "notes.txt", "--resume", "run", "--max-steps", "10", "--quiet")
    assert code == 0, err
    return tmp_path / "run"


def _card_commands(card: str) -> list[list[str]]:
    block = card.split("## Trained with")[1].split("```")[1]
    commands = [c for c in block.strip().split("\n\n")]
    return [
        shlex.split(" ".join(x for x in c.splitlines() if not x.startswith("#")).replace("\\", ""))
        for c in commands
    ]


def _weights(path):
    return checkpoint.read(path).group("model")


def test_info_describes_every_session_and_the_best_step(cli, two_sessions):
    code, out, err = cli("info", two_sessions, "--json")
    assert code == 0, err
    info = json.loads(out)
    latest = checkpoint.read(two_sessions / "latest.ckpt").meta["position"]
    best = checkpoint.read(two_sessions / "best.ckpt").meta["position"]
    assert info["step"] == latest["step"] == 30  # the run, not best.ckpt
    assert info["train_seconds"] == latest["train_seconds"]
    assert info["checkpoint_step"] == best["step"] == info["best_step"]
    assert len(info["sessions"]) == 2 and "resumed with --max-steps 10" in info["sessions"][1]
    code, out, _ = cli("info", two_sessions)
    assert "30 steps" in out and "session 2" in out and "best val" in out


def test_the_card_describes_the_run_and_its_commands_train_it_again(cli, two_sessions, tmp_path):
    code, _, err = cli("export", two_sessions, tmp_path / "shared")
    assert code == 0, err
    card = (tmp_path / "shared" / "README.md").read_text(encoding="utf-8")
    assert "| training | 30 steps" in card and "in 2 sessions" in card
    test_bpc = [  # the last session's, on the run's best weights
        r["test_bpc"]
        for r in map(json.loads, (two_sessions / "metrics.jsonl").read_text().splitlines())
        if r["kind"] == "test"
    ][-1]
    assert f"| test | {test_bpc:.3f} bits/char |" in card
    commands = _card_commands(card)
    assert len(commands) == 2 and "--resume" in commands[1]
    for argv in commands:  # train it again, as the card says, into "shared"'s name
        argv = [a if a != "shared" else str(tmp_path / "again") for a in argv]
        code, _, err = cli(*argv[1:], "--quiet")
        assert code == 0, err
    again, original = _weights(tmp_path / "again"), _weights(two_sessions)
    assert all(torch.equal(again[k], original[k]) for k in original)
    # an export of the export still knows the run and its test figure
    code, _, err = cli("export", tmp_path / "shared", tmp_path / "reshared")
    assert code == 0, err
    recard = (tmp_path / "reshared" / "README.md").read_text(encoding="utf-8")
    assert f"| test | {test_bpc:.3f} bits/char |" in recard and "| training | 30 steps" in recard


def test_a_fine_tuned_card_names_the_model_and_the_grown_vocabulary(cli, two_sessions, tmp_path):
    (tmp_path / "other.txt").write_text("Zebra QUIZ {x}!\n" * 200, encoding="utf-8")
    code, _, err = cli("train", "other.txt", "--init-from", "run", "--extend-vocab", "--out",
                       "tuned", "--max-steps", "10", *TINY_TRAIN[4:])  # fmt: skip
    assert code == 0, err
    code, _, err = cli("export", "tuned", "tuned-export")
    assert code == 0, err
    card = (tmp_path / "tuned-export" / "README.md").read_text(encoding="utf-8")
    (argv,) = _card_commands(card)
    assert "--init-from run" in " ".join(argv) and "--extend-vocab" in argv
    assert not re.search(r"best\.ckpt|latest\.ckpt", card)
    code, _, err = cli(*[a if a != "tuned" else "again" for a in argv[1:]], "--out", "again",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    again, original = _weights(tmp_path / "again"), _weights(tmp_path / "tuned")
    assert all(torch.equal(again[k], original[k]) for k in original)


def test_the_report_describes_the_run(cli, two_sessions):
    code, _, err = cli("report", two_sessions)
    assert code == 0, err
    page = (two_sessions / "report.html").read_text(encoding="utf-8")
    assert "30 steps" in page and "2 sessions" in page and "session 2" in page
    assert page.count("<h3>temperature 0.8</h3>") == 0  # the 0.8 sample is shown once, on top
    assert "A sample (temperature 0.8)" in page
