import json
import pickle
import struct

import pytest
import torch

from charrnn.data.vocab import Vocab
from charrnn.errors import CheckpointError
from charrnn.files import checkpoint
from charrnn.files.format import BEST, LATEST
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab.from_text("abcdef")
    model = CharRNN(
        ModelConfig(vocab_size=6, cell="gru", embed_size=4, hidden_size=8, num_layers=2)
    )
    path = checkpoint.save(tmp_path / "m.ckpt", model, vocab, {"position": {"step": 3}})
    return path, model, vocab


def test_round_trip_gives_identical_logits(saved):
    path, model, vocab = saved
    loaded, loaded_vocab, ckpt = checkpoint.load_model(path)
    ids = torch.randint(0, 6, (2, 9))
    assert torch.equal(loaded(ids)[0], model.eval()(ids)[0])
    assert loaded_vocab == vocab and ckpt.meta["position"]["step"] == 3


def test_run_directory_means_best_then_latest(saved, tmp_path):
    path, _, _ = saved
    path.rename(tmp_path / LATEST)
    assert checkpoint.resolve(tmp_path) == tmp_path / LATEST
    (tmp_path / BEST).write_bytes((tmp_path / LATEST).read_bytes())
    assert checkpoint.resolve(tmp_path) == tmp_path / BEST


def test_failed_write_keeps_previous_file(saved, monkeypatch):
    path, model, vocab = saved
    before = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", full_disk)
    with pytest.raises(CheckpointError, match="No space left.*previous m.ckpt is intact"):
        checkpoint.save(path, model, vocab)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["m.ckpt"]  # no temp file left


def _rewrite_header(path, mutate):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    mutate(header)
    new = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n :])


def _newer(h):
    meta = json.loads(h["__metadata__"]["charrnn"])
    meta["format_version"] = 99
    h["__metadata__"]["charrnn"] = json.dumps(meta)


def _bad_schema(h):
    meta = json.loads(h["__metadata__"]["charrnn"])
    meta["model_config"] = {"hidden_size": "big"}
    h["__metadata__"]["charrnn"] = json.dumps(meta)


def _first_tensor(h):
    return next(k for k in h if k != "__metadata__")


@pytest.mark.parametrize(
    "corrupt,message",
    [
        (lambda p, h: p.write_bytes(pickle.dumps({"x": 1})), "not a charrnn checkpoint"),
        (lambda p, h: p.write_bytes(b"\xff" * 8 + b"{}"), "not a charrnn checkpoint"),
        (lambda p, h: p.write_bytes(p.read_bytes()[:-10]), "outside the file"),
        (lambda p, h: p.write_bytes(b""), "too short"),
        (lambda p, h: _rewrite_header(p, _newer), "update the installed copy of charrnn"),
        (lambda p, h: _rewrite_header(p, _bad_schema), "metadata is invalid"),
        (
            lambda p, h: _rewrite_header(p, lambda x: x[_first_tensor(x)].update(dtype="X9")),
            "malformed entry",
        ),
        (lambda p, h: _rewrite_header(p, lambda x: x.pop("__metadata__")), "without charrnn"),
        (
            lambda p, h: _rewrite_header(p, lambda x: x[_first_tensor(x)].update(shape=[1, 2, 3])),
            "outside the file",
        ),
    ],
)
def test_foreign_or_corrupt_files_give_one_line_errors(saved, corrupt, message):
    path, _, _ = saved
    corrupt(path, None)
    with pytest.raises(CheckpointError, match=message) as e:
        checkpoint.load_model(path)
    assert "\n" not in str(e.value)


def test_missing_tensor_is_reported(saved, tmp_path):
    path, model, vocab = saved
    small = CharRNN(ModelConfig(vocab_size=6, cell="gru", embed_size=4, hidden_size=8))
    raw = checkpoint.save(tmp_path / "x.ckpt", small, vocab)
    _rewrite_header(
        raw,
        lambda h: h["__metadata__"].update(
            charrnn=h["__metadata__"]["charrnn"].replace('"num_layers": 1', '"num_layers": 2')
        ),
    )
    with pytest.raises(CheckpointError, match="do not match"):
        checkpoint.load_model(raw)


def test_flipped_bits_in_the_tensor_data_are_one_line_and_exit_1(saved, tmp_path, cli):
    """15 copies with 1 to 50 bits flipped in the weights: each one is refused by sample
    (the numpy path), info (the torch path) and the API, in one line."""
    import random

    import charrnn
    from charrnn.files.format import read_header

    saved = saved[0]
    entries, _ = read_header(saved)
    data = saved.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    first = 8 + n + min(e["data_offsets"][0] for e in entries.values())
    rng = random.Random(0)
    for i in range(15):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 50)):
            at = rng.randrange(first, len(data))
            damaged[at] ^= 1 << rng.randrange(8)
        path = tmp_path / f"damaged{i}.ckpt"
        path.write_bytes(bytes(damaged))
        for command in (["sample", path, "--length", "5", "--seed", "1"], ["info", path]):
            code, out, err = cli(*command)
            assert code == 1 and "does not match its checksum" in err, (i, command, err)
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        with pytest.raises(CheckpointError, match="checksum"):
            charrnn.load(path).loss("some text")
