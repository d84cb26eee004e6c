"""How far autosize's predicted training rate is from the rate the run then measures.

autosize sizes a `--time` run from a measured rate (the training loop itself, at the chosen
size); the run records its own rate beside the prediction in its `done` record. This trains on
heads of each corpus (small texts pick small models, where a bare step's FLOPs rate overstated
the loop's most) and prints one JSON line per run; the gap is predicted / measured.

    python benchmarks/autosize_gap.py data/tinyshakespeare.txt data/warpeace.txt \\
        --sizes 8000 100000 1000000 --time 20 --results benchmarks/results/autosize_gap.jsonl

One run at a time: a rate measured beside other work is not the rate of either.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def one_run(corpus: Path, size: int, seconds: float, into: Path) -> dict:
    head = into / f"{corpus.stem}-{size}.txt"
    head.write_text(corpus.read_text(encoding="utf-8")[:size], encoding="utf-8")
    out = into / f"run-{corpus.stem}-{size}"
    subprocess.run([sys.executable, "-m", "charrnn", "train", str(head), "--time", f"{seconds}s",
                    "--out", str(out), "--quiet"], check=True, capture_output=True)  # fmt: skip
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    start = next(r for r in records if r["kind"] == "start")
    done = next(r for r in records if r["kind"] == "done")
    m = start["model_config"]
    return {
        "corpus": corpus.name,
        "chars": size,
        "model": f"{m['num_layers']}x{m['hidden_size']} {m['model']}",
        "params": start["params"],
        "seconds": seconds,
        "predicted_chars_per_s": round(done["expected_chars_per_s"]),
        "measured_chars_per_s": round(done["chars_per_s"]),
        "gap": round(done["expected_chars_per_s"] / done["chars_per_s"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--sizes", nargs="+", type=int, default=[8000, 100_000, 1_000_000])
    parser.add_argument("--time", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--results", type=Path, help="append the JSON lines here too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for corpus in args.corpora:
            for size in args.sizes:
                row = one_run(corpus, size, args.time, Path(tmp))
                line = json.dumps(row)
                print(line, flush=True)
                if args.results:
                    with args.results.open("a", encoding="utf-8") as f:
                        f.write(line + "\n")


if __name__ == "__main__":
    main()
