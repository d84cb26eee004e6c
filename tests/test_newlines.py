"""Text is read the same way everywhere: a carriage return stays a carriage return. Training
keeps CRs, so eval, inspect, --prime-file, the pages and the API must too, or a CRLF file is
scored as some other text. CRLF, CR-only and mixed files, for character and byte models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import charrnn
from tests.conftest import TINY_TRAIN, make_text

LINES = make_text(120).splitlines()
TEXTS = {
    "crlf": "\r\n".join(LINES) + "\r\n",
    "cr": "\r".join(LINES) + "\r",
    "mixed": "\r\n".join(LINES[:40])
    + "\n"
    + "\r".join(LINES[40:80])
    + "\n"
    + "\n".join(LINES[80:]),
}


@pytest.fixture(scope="module", params=["char", "byte"])
def crlf_run(request, tmp_path_factory):
    from charrnn.cli import main

    tmp = tmp_path_factory.mktemp(f"crlf-{request.param}")
    corpus = tmp / "corpus.txt"
    corpus.write_bytes(TEXTS["mixed"].encode())  # CR, LF and CRLF all in the vocabulary
    with pytest.raises(SystemExit) as done:
        main(["train", str(corpus), "--out", str(tmp / "run"), "--max-steps", "10",
              "--unit", request.param, *TINY_TRAIN])  # fmt: skip
    assert done.value.code == 0
    return tmp / "run", request.param


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_eval_the_api_and_the_page_score_every_character(crlf_run, tmp_path, cli, kind):
    run, level = crlf_run
    path = tmp_path / f"{kind}.txt"
    path.write_bytes(TEXTS[kind].encode())
    n = len(TEXTS[kind]) if level == "char" else len(TEXTS[kind].encode())
    code, out, err = cli("eval", run, path, "--json", "--html", tmp_path / "page.html")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["chars"] == n - 1 and figures["unknown"]["count"] == 0
    model = charrnn.load(run)
    with open(path, encoding="utf-8", newline="") as f:
        as_string = model.loss(f.read())
    as_path = model.loss(Path(path))
    assert as_string.chars == as_path.chars == n - 1
    assert as_string.nats == pytest.approx(figures["loss"], rel=1e-6)
    assert as_path.nats == pytest.approx(figures["loss"], rel=1e-6)
    page = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert f"over {n - 1:,} characters" in page


def test_inspect_reads_the_carriage_returns(crlf_run, tmp_path, cli):
    run, level = crlf_run
    path = tmp_path / "crlf.txt"
    path.write_bytes(TEXTS["crlf"].encode())
    code, _, err = cli("inspect", run, path, "--out", tmp_path / "acts.npz")
    assert code == 0, err
    dump = np.load(tmp_path / "acts.npz")
    assert str(dump["text"]) == TEXTS["crlf"]
    length = len(TEXTS["crlf"].encode()) if level == "byte" else len(TEXTS["crlf"])
    assert dump["h"].shape[1] == length


def test_a_file_of_blank_crlf_lines_is_four_characters(crlf_run, tmp_path, cli):
    run, level = crlf_run
    path = tmp_path / "blank.txt"
    path.write_bytes(b"\r\n\r\n")
    code, out, err = cli("eval", run, path, "--json")
    assert code == 0, err
    assert json.loads(out)["chars"] == 3


def test_a_prime_file_keeps_its_carriage_returns(crlf_run, tmp_path, cli):
    run, _ = crlf_run
    prime = tmp_path / "prime.txt"
    prime.write_bytes(b"alpha(x)\r\n")
    code, out, err = cli("sample", run, "--prime-file", prime, "--length", "5", "--seed", "1")
    assert code == 0, err
    assert out.startswith("alpha(x)\r\n")


def test_carriage_returns_a_model_never_saw_are_reported(run_dir, tmp_path, cli):
    run, _ = run_dir  # trained on LF text: CR is not in its vocabulary
    path = tmp_path / "crlf.txt"
    path.write_bytes(TEXTS["crlf"].encode())
    code, out, err = cli("eval", run, path, "--json", "--unknown", "skip")
    assert code == 0, err
    assert json.loads(out)["unknown"]["chars"] == {"\r": TEXTS["crlf"].count("\r")}
    assert "'\\r'" in err
