"""Proof that unit search finds real units: a small LSTM trained for a fixed number of steps on
the synthetic corpus (quoted spans in capitals, lines wrapped at 40 columns) grows a unit that
follows "inside quotes" and one that follows the position in the line, each with |r| >= 0.8,
and `charrnn inspect --find` ranks them first."""

import json

import pytest

from corpora import synth

STEPS = 600


@pytest.fixture(scope="module")
def synth_run(tmp_path_factory):
    from charrnn.cli import main

    tmp = tmp_path_factory.mktemp("synth")
    (tmp / "train.txt").write_text(synth.generate("quotes", 120_000, seed=0), encoding="utf-8")
    (tmp / "probe.txt").write_text(synth.generate("quotes", 4_000, seed=99), encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        main(
            [
                "train",
                str(tmp / "train.txt"),
                "--out",
                str(tmp / "run"),
                "--max-steps",
                str(STEPS),
                "--hidden-size",
                "48",
                "--embed-size",
                "16",
                "--batch-size",
                "16",
                "--seq-len",
                "64",
                "--lr",
                "0.01",
                "--eval-every",
                "300",
                "--seed",
                "0",
                "--precision",
                "fp32",
                "--quiet",
            ]
        )
    assert e.value.code == 0
    return tmp


@pytest.mark.parametrize("feature", ["quotes", "line_pos"])
def test_find_ranks_a_unit_that_follows_the_feature(cli, synth_run, feature):
    code, out, err = cli(
        "inspect",
        synth_run / "run",
        synth_run / "probe.txt",
        "--find",
        feature,
        "--json",
        "--top",
        "5",
    )
    assert code == 0, err
    ranking = json.loads(out)
    best = ranking[0]
    assert {"layer", "unit", "quantity", "r"} <= set(best)
    assert abs(best["r"]) >= 0.8, ranking[:3]
    assert abs(best["r"]) == max(abs(r["r"]) for r in ranking)
    if feature == "quotes":
        assert best["accuracy"] >= 0.9
