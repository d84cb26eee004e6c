"""A checkpoint written by an earlier charrnn (tests/data/golden.ckpt, made by
tests/make_golden.py) keeps loading, sampling and scoring exactly as it did. If this fails, the
format changed: bump FORMAT_VERSION, make the reader migrate files of the old version,
then regenerate the golden files."""

import json
from pathlib import Path

import pytest
import torch

from charrnn.api import load
from charrnn.files import checkpoint
from charrnn.files.format import FORMAT_VERSION
from charrnn.model.network import CharRNN
from tests.make_golden import golden_text

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "golden.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["golden.ckpt", "golden_v1.ckpt"])
def test_golden_checkpoint_samples_and_scores_as_it_did(cli, name):
    """Today's format, and every older one still read (golden_vN.ckpt: the same weights)."""
    m = load(DATA / name)
    prime = GOLDEN["prime"]
    length = len(GOLDEN["argmax_sample"]) - len(prime)
    assert m.sample(prime=prime, length=length, argmax=True) == GOLDEN["argmax_sample"]
    assert m.loss(golden_text()).nats == pytest.approx(GOLDEN["loss_nats"], rel=1e-5)
    code, out, err = cli("sample", DATA / name, "--prime", prime, "--length", length,
                         "--argmax")  # fmt: skip
    assert code == 0, err
    assert out.rstrip("\n") == GOLDEN["argmax_sample"]


def test_the_format_written_today_is_the_golden_one(tmp_path):
    golden = checkpoint.read(DATA / "golden.ckpt")
    assert golden.meta["format_version"] == GOLDEN["format_version"]
    written = checkpoint.save(tmp_path / "now.ckpt", CharRNN(golden.model_config), golden.vocab)
    fresh = checkpoint.read(written)
    changed = "the checkpoint format changed: bump FORMAT_VERSION and migrate old files"
    assert GOLDEN["format_version"] == FORMAT_VERSION, (
        "FORMAT_VERSION changed: keep a file of the old version as a migration test and "
        "regenerate the golden files (python -m tests.make_golden)"
    )
    assert sorted(fresh.tensors) == sorted(golden.tensors), changed
    assert {k: v.dtype for k, v in fresh.tensors.items()} == {
        k: v.dtype for k, v in golden.tensors.items()
    }, changed
    same_keys = {"format", "format_version", "model_config", "vocab"}
    assert {k: fresh.meta[k] for k in same_keys} == {k: golden.meta[k] for k in same_keys}, changed
    assert all(isinstance(t, torch.Tensor) for t in golden.tensors.values())
