"""New text with characters the model never saw — at the start, in the middle, at the end —
scored and inspected with --unknown error | skip | map."""

import json

import numpy as np
import pytest

import charrnn
from charrnn.data.reading import read
from charrnn.errors import DataError
from charrnn.inspection import dumps
from tests.conftest import make_text

UNSEEN = "é€😀"


@pytest.fixture
def texts(run_dir):
    run, _ = run_dir
    clean = make_text(60, seed=11)
    middle = len(clean) // 2
    dirty = "é" + clean[:middle] + "€€" + clean[middle:] + "😀"
    return run, clean, dirty


def test_error_names_every_unseen_character_with_its_count(texts):
    run, _, dirty = texts
    with pytest.raises(DataError, match="4 character.*'é' x1, '€' x2, '😀' x1"):
        charrnn.load(run).loss(dirty, unknown="error")


def test_skip_scores_the_text_as_if_they_were_not_there(texts):
    run, clean, dirty = texts
    m = charrnn.load(run)
    skipped, plain = m.loss(dirty, unknown="skip"), m.loss(clean)
    assert skipped.nats == plain.nats and skipped.chars == plain.chars == len(clean) - 1
    assert skipped.unseen == 4
    reading = read(m.vocab, dirty, "t", "skip")
    assert reading.text == clean and reading.skipped_before.sum() == 3  # the last had no next
    assert reading.skipped_before[0] == 1 and reading.skipped_before[len(clean) // 2] == 2


def test_map_reads_them_as_a_known_symbol_and_scores_them_apart(texts):
    run, clean, dirty = texts
    m = charrnn.load(run)
    reading = read(m.vocab, dirty, "t", "map")
    assert reading.text == dirty and len(reading.ids) == len(dirty)
    mapped = np.flatnonzero(reading.mapped).tolist()
    assert mapped == [0, len(clean) // 2 + 1, len(clean) // 2 + 2, len(dirty) - 1]
    assert reading.substitute in m.vocab.symbols  # the text's most frequent known character
    assert m.vocab.id_to_symbol(int(reading.ids[0])) == reading.substitute
    loss = m.loss(dirty, unknown="map")
    assert loss.chars == len(dirty) - 1 - 3  # position 0 only starts the state
    assert loss.nats != m.loss(clean).nats  # the text's shape is kept, so the context differs


def test_eval_reports_them_in_the_summary_json_and_page(cli, texts, tmp_path):
    run, clean, dirty = texts
    path = tmp_path / "new.txt"
    path.write_text(dirty, encoding="utf-8")
    code, _, err = cli("eval", run, path, "--unknown", "error")
    assert code == 1 and "'€' x2" in err and len(err.strip().splitlines()) == 1
    code, out, err = cli("eval", run, path, "--json", "--unknown", "skip")
    doc = json.loads(out)
    assert code == 0 and doc["unknown"] == {"mode": "skip", "count": 4,
        "chars": {"é": 1, "€": 2, "😀": 1}, "read_as": None}  # fmt: skip
    assert doc["chars"] == len(clean) - 1 and "skipped 4 characters" in err
    code, out, err = cli("eval", run, path, "--json", "--html", tmp_path / "p.html")
    doc = json.loads(out)  # map, the default
    assert code == 0 and doc["unknown"]["mode"] == "map" and doc["scored_apart"]["chars"] == 3
    assert doc["chars"] == len(dirty) - 4 and "scored them apart" in err
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    data = json.loads(page.split('id="charrnn-data">', 1)[1].split("</script>", 1)[0])
    assert data["marks"]["mapped"] == [0, len(clean) // 2 + 1, len(clean) // 2 + 2, len(dirty) - 1]


@pytest.mark.parametrize("mode", ["skip", "map"])
def test_inspect_every_action_takes_the_same_choice(cli, texts, tmp_path, mode):
    run, clean, dirty = texts
    path = tmp_path / "new.txt"
    path.write_text(dirty, encoding="utf-8")
    out = tmp_path / "a.npz"
    code, _, err = cli("inspect", run, path, "--unknown", mode, "--out", out, "--find", "quotes",
                       "--saturation", "--html", tmp_path / "i.html")  # fmt: skip
    assert code == 0, err
    dump = dumps.read(out)
    assert dump["text"] == (clean if mode == "skip" else dirty)
    page = (tmp_path / "i.html").read_text(encoding="utf-8")
    data = json.loads(page.split('id="charrnn-data">', 1)[1].split("</script>", 1)[0])
    marks = data["marks"]
    if mode == "skip":  # where they were: before the first, in the middle, after the last
        assert marks["skipped"] == {"0": 1, str(len(clean) // 2): 2} and marks["skipped_at_end"]
    else:
        assert len(marks["mapped"]) == 4
    code, _, err = cli("inspect", run, path, "--unknown", "error", "--saturation")
    assert code == 1 and "never saw" in err
    acts = charrnn.load(run).activations(dirty, unknown=mode)
    assert acts["arrays"]["h"].shape[1] == len(dump["text"])
