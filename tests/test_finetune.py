"""Fine-tuning a trained model on new text (`--init-from`, `--extend-vocab`) and snapshots along
training (`--keep-every`)."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from charrnn.data.batches import layout_for, split, window
from charrnn.data.corpus import prepare
from charrnn.data.vocab import Vocab
from charrnn.files import checkpoint
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN, grow_vocab
from charrnn.training.config import TrainConfig
from tests.conftest import TINY_TRAIN, make_text

FLAGS = [*TINY_TRAIN, "--precision", "fp32", "--log-every", "1", "--warmup-steps", "5"]


def test_fine_tuning_starts_where_the_model_scores_the_new_text_and_learns(cli, run_dir, tmp_path):
    run, _ = run_dir
    new_text = tmp_path / "b.txt"
    new_text.write_text(make_text(150, seed=7), encoding="utf-8")
    out = tmp_path / "ft"
    code, _, err = cli("train", new_text, "--init-from", run, "--out", out, "--max-steps", "60",
                       *FLAGS)  # fmt: skip
    assert code == 0, err
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in records if r["kind"] == "train"]
    assert records[0]["step"] == 0 and len(losses) == 60  # a new run: steps from 0

    model, vocab, _ = checkpoint.load_model(run)  # what the trained model scores on B's window
    ids = prepare(new_text, base_vocab=vocab).ids
    train_ids = split(ids, 0.05, 0.05)[0]
    T = TrainConfig()  # the run's layout: its default chunk length and seed
    x, y = window(train_ids, layout_for(len(train_ids), 4, 16, T.chunk_len, T.seed), 0)
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(x))
    first = F.cross_entropy(logits.flatten(0, 1), torch.from_numpy(y).flatten()).item()
    assert losses[0] == pytest.approx(first, rel=1e-4)
    assert np.mean(losses[-5:]) < first - 0.15
    assert checkpoint.read(out).vocab == vocab  # the model's vocabulary kept


def test_unseen_characters_are_named_or_added_with_extend_vocab(cli, run_dir, tmp_path):
    run, _ = run_dir
    text = tmp_path / "c.txt"
    text.write_text(make_text(100, seed=3) + "café €5\n", encoding="utf-8")
    args = ("train", text, "--init-from", run, "--max-steps", "3", *FLAGS)
    code, _, err = cli(*args, "--out", tmp_path / "a")
    assert code == 1 and "'5cfé€'" in err and "--extend-vocab" in err and err.count("\n") == 1
    code, _, err = cli(*args, "--out", tmp_path / "b", "--extend-vocab")
    assert code == 0, err
    grown = checkpoint.read(tmp_path / "b").vocab
    old = checkpoint.read(run).vocab
    assert set(grown.symbols) == set(old.symbols) | set("5cfé€")


def test_grow_vocab_moves_old_rows_unchanged():
    torch.manual_seed(0)
    old = Vocab("abd", has_unk=True)
    new = old.extended("c")  # "abcd": d moves from id 2 to 3, unknown from 3 to 4
    model = CharRNN(ModelConfig(vocab_size=old.size, embed_size=3, hidden_size=4))
    grown = grow_vocab(model.state_dict(), old, new)
    for ch in "abd":
        i, j = old.symbols.index(ch), new.symbols.index(ch)
        assert torch.equal(grown["embed.weight"][j], model.embed.weight[i])
        assert torch.equal(grown["head.weight"][j], model.head.weight[i])
    assert torch.equal(grown["head.bias"][new.unk_id], model.head.bias[old.unk_id])
    assert grown["head.bias"][new.symbols.index("c")] == model.head.bias.min()


def test_snapshots_are_kept_listed_and_sampled(cli, text_file, tmp_path):
    run = tmp_path / "run"
    code, _, err = cli("train", text_file, "-o", run, "--max-steps", "12", "--keep-every", "5",
                       *TINY_TRAIN)  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in run.glob("step-*")) == ["step-000005.ckpt", "step-000010.ckpt"]
    snap = checkpoint.read(run / "step-000005.ckpt")
    assert snap.meta["position"]["step"] == 5 and "rng.torch" not in snap.tensors
    code, out, _ = cli("sample", run / "step-000005.ckpt", "-n", "20", "--seed", "1")
    assert code == 0 and len(out) == 21
    code, out, _ = cli("info", run)
    assert "snapshots" in out and "step-000010.ckpt" in out
