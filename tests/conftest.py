"""Shared fixtures: tiny deterministic corpora and a CLI runner with a fixed-width console."""

from __future__ import annotations

import os
import random

import pytest

os.environ["COLUMNS"] = "120"  # Rich renders the same on every terminal and in CI
os.environ.setdefault("OMP_NUM_THREADS", "2")

import torch  # noqa: E402

torch.set_num_threads(min(2, torch.get_num_threads()))


def make_text(n_lines: int = 200, seed: int = 0) -> str:
    """Code-like lines with structure a small model learns quickly."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "x", "y", "print", "return"]
    lines = []
    for _ in range(n_lines):
        indent = "    " * rng.randint(0, 2)
        lines.append(f'{indent}{rng.choice(words)}({rng.choice(words)}, "{rng.choice(words)}")')
    return "\n".join(lines) + "\n"


@pytest.fixture
def text_file(tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text(make_text(), encoding="utf-8")
    return p


@pytest.fixture
def cli(capsys):
    """Runs `charrnn ARGS` in-process; returns (exit code, stdout, stderr)."""
    from charrnn.cli import main

    def run(*args):
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


TINY_TRAIN = (
    "--hidden-size",
    "16",
    "--embed-size",
    "8",
    "--batch-size",
    "4",
    "--seq-len",
    "16",
    "--eval-every",
    "10",
    "--log-every",
    "5",
    "--quiet",
)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    """A tiny trained run (20 steps) and its corpus, shared by the CLI tests."""
    from charrnn.cli import main

    tmp = tmp_path_factory.mktemp("run")
    corpus = tmp / "corpus.txt"
    corpus.write_text(make_text(), encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        main(["train", str(corpus), "--out", str(tmp / "run"), "--max-steps", "20", *TINY_TRAIN])
    assert e.value.code == 0
    return tmp / "run", corpus
