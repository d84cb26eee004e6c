import json
from pathlib import Path

import numpy as np
import pytest

from charrnn.data import batches
from charrnn.data import corpus as corpus_module
from charrnn.data.corpus import check_text_file, encode_file, prepare
from charrnn.data.vocab import Vocab
from charrnn.errors import DataError


def test_window_layout_matches_worked_example():
    ids = np.arange(13)
    layout = batches.Layout(n=13, batch_size=3, seq_len=3)
    assert layout.stream_len == 4 and layout.num_windows == 2
    x0, y0 = batches.window(ids, layout, 0)
    assert x0.tolist() == [[0, 1, 2], [4, 5, 6], [8, 9, 10]]
    assert y0.tolist() == [[1, 2, 3], [5, 6, 7], [9, 10, 11]]
    x1, y1 = batches.window(ids, layout, 1)  # the short last window
    assert x1.tolist() == [[3], [7], [11]] and y1.tolist() == [[4], [8], [12]]
    xr, _ = batches.window(ids, layout, 0, rows=slice(1, 3))
    assert xr.tolist() == [[4, 5, 6], [8, 9, 10]]


def test_shuffled_chunks_change_order_each_epoch_and_repeat_with_the_seed():
    ids = np.arange(10_001)
    layout = batches.layout_for(len(ids), batch_size=4, seq_len=10, chunk_len=50, seed=1)
    assert layout.chunk_windows == 5 and layout.chunk_chars == 50
    first = [batches.window(ids, layout, w, epoch=0)[0] for w in range(layout.num_windows)]
    again = [batches.window(ids, layout, w, epoch=0)[0] for w in range(layout.num_windows)]
    other = [batches.window(ids, layout, w, epoch=1)[0] for w in range(layout.num_windows)]
    assert all((a == b).all() for a, b in zip(first, again, strict=True))
    assert not all((a == b).all() for a, b in zip(first, other, strict=True))
    # Each chunk starts at a multiple of the chunk length; stream b's rows jump between chunks.
    assert all((x[:, 0] % 50 == 0).all() for x in first[::5])
    starts = np.stack([x[:, 0] for x in first[::5]])  # (chunks per stream, B)
    assert len(np.unique(starts)) == starts.size


def test_too_short_a_text_for_chunks_falls_back_to_contiguous_streams():
    layout = batches.layout_for(100, batch_size=4, seq_len=10, chunk_len=50, seed=1)
    assert layout.chunk_windows == 0 and layout.stream_len == 24
    assert batches.layout_for(10_000, 4, 10, chunk_len=0, seed=1).chunk_windows == 0


def test_split_is_contiguous_train_val_test():
    ids = np.arange(100)
    tr, va, te = batches.split(ids, 0.1, 0.2)
    assert (len(tr), len(va), len(te)) == (70, 10, 20)
    assert tr[-1] + 1 == va[0] and va[-1] + 1 == te[0]


def test_prepare_streams_across_chunk_boundary_inside_multibyte_char(tmp_path, monkeypatch):
    text = "ab😀é" * 50 + "日本語\n"
    p = tmp_path / "t.txt"
    p.write_text(text, encoding="utf-8")
    monkeypatch.setattr(corpus_module, "CHUNK_BYTES", 7)  # splits 4- and 2-byte characters
    corpus = prepare(p, cache_dir=tmp_path / "cache")
    assert corpus.vocab.decode(corpus.ids) == text
    assert corpus.counts["😀"] == 50
    again = prepare(p, cache_dir=tmp_path / "cache")  # served from the token file
    assert isinstance(again.ids, np.memmap)
    assert np.array_equal(np.asarray(again.ids), np.asarray(corpus.ids))


def test_cache_is_keyed_by_content_not_mtime(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("abcabc", encoding="utf-8")
    first = prepare(p, cache_dir=tmp_path / "c")
    p.write_text("xyzxyz", encoding="utf-8")  # same size, new content
    second = prepare(p, cache_dir=tmp_path / "c")
    assert first.vocab.symbols == "abc" and second.vocab.symbols == "xyz"


def _damage(kind: str, header: Path, tokens: Path) -> None:
    if kind == "truncated":
        tokens.write_bytes(tokens.read_bytes()[:-3])
    elif kind == "flipped token bytes":
        data = bytearray(tokens.read_bytes())
        data[len(data) // 2] ^= 0xFF
        data[7] ^= 0x01
        tokens.write_bytes(bytes(data))
    elif kind == "bad header":
        header.write_text('{"format": 1, "n_tok')
    elif kind == "header of other content":
        doc = json.loads(header.read_text())
        header.write_text(json.dumps({**doc, "sha256": "0" * 64}))
    elif kind == "no token file":
        tokens.unlink()


@pytest.mark.parametrize(
    "kind,reason",
    [
        ("truncated", "truncated"),
        ("flipped token bytes", "checksum"),
        ("bad header", "does not parse"),
        ("header of other content", "other content"),
        ("no token file", "no token file"),
    ],
)
def test_a_cache_that_lies_is_rebuilt_with_a_note_never_used(tmp_path, kind, reason):
    p = tmp_path / "t.txt"
    p.write_text("hello world, hello cache\n" * 40, encoding="utf-8")
    good = prepare(p, cache_dir=tmp_path / "c")
    expected = np.asarray(good.ids).copy()
    (header,) = (tmp_path / "c").glob("*.json")
    (tokens,) = (tmp_path / "c").glob("*.tokens")
    del good
    _damage(kind, header, tokens)
    notes = []
    again = prepare(p, cache_dir=tmp_path / "c", warn=notes.append)
    assert len(notes) == 1 and reason in notes[0] and "rebuilding" in notes[0], notes
    assert np.array_equal(np.asarray(again.ids), expected)
    notes.clear()
    third = prepare(p, cache_dir=tmp_path / "c", warn=notes.append)  # now whole again
    assert not notes and np.array_equal(np.asarray(third.ids), expected)


def test_invalid_utf8_names_the_byte_offset(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"hello \xff world")
    with pytest.raises(DataError, match=r"byte offset 6.*--unit byte"):
        prepare(p)
    corpus = prepare(p, level="byte")
    assert len(corpus) == 13 and corpus.vocab.size == 256


@pytest.mark.parametrize("make", ["missing", "dir", "empty"])
def test_unusable_paths(tmp_path, make):
    p = tmp_path / "x.txt"
    if make == "dir":
        p.mkdir()
    elif make == "empty":
        p.write_text("")
    with pytest.raises(DataError):
        check_text_file(p)


def test_encode_file_with_fixed_vocab_names_unseen_characters(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("abcq", encoding="utf-8")
    with pytest.raises(DataError, match="'q'"):
        encode_file(p, Vocab.from_text("abc"))
