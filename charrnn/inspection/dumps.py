"""Activation dumps on disk: `.npz` for numpy users, `.json` for everything else.

Both hold the same content: the text and its ids, the model type, which layers and units were
kept, the arrays {quantity: [layer, time, unit]} (h, c and gates) and the next-character
probabilities [time, vocab] with the vocabulary to read them.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from charrnn.data.vocab import Vocab
from charrnn.errors import OutputError
from charrnn.fileio import atomic_write_bytes, starts_with


def write(
    path: Path,
    *,
    text: str,
    vocab: Vocab,
    ids,
    arrays: dict,
    probs,
    model: str,
    layers: list[int],
    units: list[int],
) -> None:
    meta = {
        "model": model,
        "layers": layers,
        "units": units,
        "vocab": vocab.to_dict(),
        "quantities": list(arrays),
        "shape": "[layer, time, unit]",
    }
    if path.suffix == ".json":
        doc = {
            **meta,
            "text": text,
            "ids": np.asarray(ids).tolist(),
            "arrays": {q: np.round(a, 6).tolist() for q, a in arrays.items()},
            "probs": np.round(probs, 6).tolist(),
        }
        payload = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    else:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            text=np.array(text),
            ids=np.asarray(ids),
            probs=probs,
            meta=np.array(json.dumps(meta)),
            **{q: a for q, a in arrays.items()},
        )
        payload = buf.getvalue()
    atomic_write_bytes(
        path,
        payload,
        what="activation dump",
        error=OutputError,
        hint="Free disk space or give another --out file.",
    )


def is_dump(path: Path) -> bool:
    """Whether `path` holds an activation dump `write` wrote (which inspect --out may replace)."""
    if path.suffix == ".json":
        return starts_with(path, b'{"model": ') and starts_with(path, b'"quantities"', 1 << 20)
    try:
        with zipfile.ZipFile(path) as z:
            return {"meta.npy", "ids.npy", "text.npy"} <= set(z.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def read(path: Path) -> dict:
    """The dump as a dict (arrays as numpy); for tests and notebooks."""
    if path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["arrays"] = {q: np.asarray(a, np.float32) for q, a in doc["arrays"].items()}
        return doc
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return {
            **meta,
            "text": str(z["text"]),
            "ids": z["ids"],
            "probs": z["probs"],
            "arrays": {q: z[q] for q in meta["quantities"]},
        }
