"""Writes the golden checkpoint the tests load (tests/data/golden.ckpt, a few KB) and what it
must produce (tests/data/golden.json). Run it only when the checkpoint format changes on
purpose, together with a FORMAT_VERSION bump and a migration that still reads the old file.
Keep the old file first (as tests/data/golden_v1.ckpt was kept): an existing golden.ckpt is
re-saved in the current format with the same weights, so the recorded figures stay the same;
without one, a model is trained.

    cp tests/data/golden.ckpt tests/data/golden_vN.ckpt && python -m tests.make_golden
"""

import json
import tempfile
from pathlib import Path

from charrnn.api import load, train
from charrnn.files import checkpoint
from tests.conftest import make_text

HERE = Path(__file__).parent / "data"
PRIME, LENGTH = "alpha(", 80


def golden_text() -> str:
    return make_text(60, seed=11)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = HERE / "golden.ckpt"
        if not source.exists():
            corpus = Path(tmp) / "golden.txt"
            corpus.write_text(golden_text(), encoding="utf-8")
            run = train(corpus, out=Path(tmp) / "run", hidden_size=32, embed_size=8,
                        batch_size=4, seq_len=16, max_steps=800, seed=1,
                        precision="fp32")  # fmt: skip
            source = run / "best.ckpt"
        model, vocab, _ = checkpoint.load_model(source)
        # Weights, config and vocabulary only: no path or text of this machine in the file.
        path = checkpoint.save(HERE / "golden.ckpt", model, vocab, meta={})
    m = load(path)
    expected = {
        "format_version": checkpoint.read(path).meta["format_version"],
        "prime": PRIME,
        "argmax_sample": m.sample(prime=PRIME, length=LENGTH, argmax=True),
        "loss_nats": m.loss(golden_text()).nats,
    }
    (HERE / "golden.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    print(path, path.stat().st_size, "bytes;", expected)


if __name__ == "__main__":
    main()
