"""An n-gram model as a file (`charrnn ngram`): one safetensors file holding the training text's
ids, its vocabulary and the order, checked like a checkpoint (files/format.py reads the header
by hand; nothing is unpickled). The counts are made again when it is loaded (ngram.py: seconds),
so the file is as small as the text.

Scoring follows `charrnn eval`'s protocol exactly: every character after the first, each given
the characters before it in the file (the n-gram's "state carried" is its last order-1
characters); characters it never saw handled by `--unknown` as for a trained model.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from charrnn.data.reading import Reading, read, read_text_file
from charrnn.data.vocab import Vocab
from charrnn.errors import CheckpointError, DataError, OutputError
from charrnn.fileio import atomic_write_bytes, check_replaceable
from charrnn.files import format as fmt
from charrnn.inference.ngram import MAX_ORDER, NGram

AUTO_ORDERS = range(1, 13)  # --order auto tries these (higher orders never won on held-out text)
AUTO_VAL_FRAC = 0.05  # the tail of the training text that --order auto scores each order on


@dataclass
class NGramModel:
    path: Path | None  # None: counted in memory (compare)
    vocab: Vocab
    model: NGram
    meta: dict

    @property
    def order(self) -> int:
        return self.model.order

    @property
    def name(self) -> str:
        return f"{self.order}-gram"

    def read(self, text: str, label: str, unknown: str) -> Reading:
        return read(self.vocab, text, label, unknown)

    def char_probs(self, ids: np.ndarray, window: int | None = None) -> np.ndarray:
        """(T,) the probability of each character given those before it: all of them (`eval`'s
        default), or those since the start of its `window`-character window (--fresh-windows:
        targets s+1..s+window of the window starting at s)."""
        if window is None:
            return self.model.target_probs(ids)
        t = np.arange(len(ids))
        return self.model.target_probs(ids, t - np.maximum(t - 1, 0) // window * window)

    def score(self, reading: Reading, window: int | None = None):
        """`charrnn eval`'s figure (evaluate.Score) for this model on `reading`."""
        from charrnn.inference.evaluate import Score

        losses = -np.log(self.char_probs(reading.ids, window))
        scored = reading.scored()
        apart = ~scored
        apart[:1] = False  # the first character only starts the history
        if window is not None:  # only the targets of whole windows, as for a network
            cut = (len(reading.ids) - 1) // window * window + 1
            scored[cut:] = apart[cut:] = False
        count = int(scored.sum())
        if count < 1:
            need = (window or 1) + 1
            raise DataError(f"too short to score: {len(reading.ids)} characters (need at least "
                            f"{need}).")  # fmt: skip
        n_apart = int(apart.sum())
        return Score(float(losses[scored].mean()), count, "windows" if window else "carried",
                     window, float(losses[apart].mean()) if n_apart else None, n_apart)  # fmt: skip

    def char_bits(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(bits (T,), probs (T, V)) as evaluate.char_losses gives them for a network: the loss
        on each character in bits (0 for the first) and the distribution before each."""
        probs = self.model.all_probs(ids)
        bits = np.zeros(len(ids))
        bits[1:] = -np.log2(probs[np.arange(1, len(ids)), ids[1:]])
        return bits, probs

    def generate(self, prime: list[int], cfg):
        """Yields lists of ids, one per step, like sample.generate (the same draw as the numpy
        sampler: temperature, top-k, argmax, seed)."""
        from charrnn.inference.fastsample import draw

        rng = np.random.default_rng(cfg.seed)
        histories = [list(prime) for _ in range(cfg.num_samples)]
        keep = max(self.order - 1, 0)
        for _ in range(cfg.length):
            probs = np.stack([self.model.distribution(h[len(h) - keep :] if keep else [])
                              for h in histories])  # fmt: skip
            with np.errstate(divide="ignore"):
                ids = draw(np.log(probs), rng, cfg.temperature, cfg.top_k, cfg.argmax, None)
            for h, i in zip(histories, ids, strict=True):
                h.append(int(i))
            yield ids.tolist()


def is_ngram(path) -> bool:
    """Whether `path` is an n-gram file (a directory or anything else: no)."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        fmt.read_header(p, expect=fmt.NGRAM_FORMAT)
    except CheckpointError:
        return False
    return True


def build(train_file: Path, order: int | str, out: Path, overwrite: bool = False) -> dict:
    """Counts `train_file` and writes the model to `out`; returns what was chosen and measured
    (for --order auto, each order's bits per character on the training text's tail)."""
    check_replaceable(out, "n-gram model", overwrite=overwrite, ours=is_ngram)
    started = time.perf_counter()
    text = read_text_file(train_file)
    model, scores = count(text, order, str(train_file))
    _write(out, model.vocab.encode(text), model.vocab, model.order, train_file, len(text))
    return {"path": str(out), "order": model.order, "chars": len(text), "vocab": model.vocab.size,
            "auto_bpc": scores, "seconds": time.perf_counter() - started}  # fmt: skip


def count(text: str, order: int | str, label: str) -> tuple[NGramModel, dict]:
    """The n-gram model of `text`, in memory (`compare` without --ngram), and for --order auto
    each order's bits per character on the text's last AUTO_VAL_FRAC (counted on the rest)."""
    if isinstance(order, int) and not 1 <= order <= MAX_ORDER:
        raise DataError(f"--order {order}: give 1 to {MAX_ORDER}, or auto.")
    if len(text) < 2:
        raise DataError(f"{label}: too short to count ({len(text)} characters).")
    vocab = Vocab.from_text(text)
    ids = vocab.encode(text)
    scores = {}
    if order == "auto":
        cut = int(len(ids) * (1 - AUTO_VAL_FRAC))
        if cut < 2 or len(ids) - cut < 2:
            raise DataError(f"{label}: too short to choose an order on ({len(ids)} chars).")
        for m, model in NGram.orders(ids[:cut], max(AUTO_ORDERS), vocab.size).items():
            probs = model.target_probs(ids[cut:])[1:]
            scores[m] = float(-np.mean(np.log2(probs)))
        order = min(scores, key=scores.get)
    meta = {"order": order, "source": Path(label).name, "chars": len(text)}
    return NGramModel(None, vocab, NGram(ids, order, vocab.size), meta), scores


def _write(out: Path, ids: np.ndarray, vocab: Vocab, order: int, source: Path, chars: int):
    stored = np.ascontiguousarray(ids, np.uint8 if vocab.size <= 256 else np.int32)
    data = stored.tobytes()
    meta = {
        "format": fmt.NGRAM_FORMAT,
        "format_version": 1,
        "order": order,
        "vocab": vocab.to_dict(),
        "source": Path(source).name,
        "chars": chars,
        "tensor_crc32": {"ids": fmt.tensor_checksum(data)},
    }
    header = {
        "__metadata__": {"charrnn": json.dumps(meta)},
        "ids": {"dtype": "U8" if stored.dtype == np.uint8 else "I32", "shape": [len(stored)],
                "data_offsets": [0, len(data)]},
    }  # fmt: skip
    head = json.dumps(header).encode("utf-8")
    head += b" " * (-len(head) % 8)
    blob = len(head).to_bytes(8, "little") + head + data
    atomic_write_bytes(out, blob, what="n-gram model", error=OutputError,
                       hint="Free disk space or give another --out.")  # fmt: skip


def load(path) -> NGramModel:
    path = Path(path)
    entries, meta = fmt.read_header(path, expect=fmt.NGRAM_FORMAT)
    try:
        vocab = Vocab.from_dict(meta["vocab"])
        order = meta["order"]
        if not isinstance(order, int) or not 1 <= order <= MAX_ORDER or "ids" not in entries:
            raise ValueError("order or ids missing")
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: n-gram metadata is invalid ({e}).") from None
    ids = fmt.load_arrays(path, entries, meta, ("ids",), "numpy")["ids"].astype(np.int64)
    if len(ids) and int(ids.max()) >= vocab.size:
        raise CheckpointError(f"{path}: n-gram ids lie outside its vocabulary.")
    return NGramModel(path, vocab, NGram(ids, order, vocab.size), meta)
