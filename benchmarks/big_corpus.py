"""Bounded memory on big corpora: generate a synthetic text (default 2 GB) and a 10 MB one,
`charrnn prepare` each, train 100 steps on each, and report preparation MB/s and the peak
resident memory of every step, side by side. RAM must not grow with the corpus size.

    python benchmarks/big_corpus.py --size 2G --workdir /tmp/charrnn-big
    python benchmarks/big_corpus.py --size 200M --small 10M     # a quicker run

The text mixes ASCII with a few multi-byte characters, so chunk boundaries fall inside UTF-8
sequences. Writes benchmarks/results/big_corpus.json. Needs about 2x --size of free disk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from charrnn.corpora import synth  # noqa: E402


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].isalpha() else int(text)


def make_text(path: Path, size: int, seed: int = 0) -> None:
    """Blocks of generated prose (with é, ü, 日本, —) written until `size` bytes."""
    blocks = []
    for k in range(8):
        t = synth.generate("quotes", 512 * 1024, seed=seed + k)
        t = t.replace("ke", "ké").replace("mu", "mü").replace(" go ", " 日本 ").replace(";", " —")
        blocks.append(t.encode("utf-8"))
    written = 0
    with open(path, "wb") as f:
        while written < size:
            block = blocks[(written // len(blocks[0])) % len(blocks)]
            cut = min(len(block), size - written)
            while cut < len(block) and block[cut] & 0xC0 == 0x80:
                cut -= 1  # never end inside a multi-byte character
            if cut <= 0:
                break
            f.write(block[:cut])
            written += cut


def run(cmd: list[str]) -> dict:
    """Wall time and peak RSS (MB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return {
        "seconds": round(time.perf_counter() - t0, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stdout": out.strip()[-300:],
    }


def measure(path: Path, work: Path) -> dict:
    cache = work / f"cache-{path.stem}"
    shutil.rmtree(cache, ignore_errors=True)
    charrnn = [sys.executable, "-m", "charrnn"]
    size = path.stat().st_size
    prep = run(charrnn + ["prepare", str(path), "--cache-dir", str(cache)])
    train = run(
        charrnn
        + [
            "train",
            str(path),
            "--cache-dir",
            str(cache),
            "--out",
            str(work / f"run-{path.stem}"),
            "--overwrite",
            "--max-steps",
            "100",
            "--eval-every",
            "1000",
            "--val-frac",
            "0.0001",
            "--test-frac",
            "0",
            "--hidden-size",
            "256",
            "--batch-size",
            "32",
            "--seq-len",
            "64",
            "--quiet",
        ]
    )
    return {
        "file": path.name,
        "bytes": size,
        "prepare_seconds": prep["seconds"],
        "prepare_mb_per_s": round(size / 2**20 / prep["seconds"], 1),
        "prepare_peak_rss_mb": prep["peak_rss_mb"],
        "train_100_steps_seconds": train["seconds"],
        "train_peak_rss_mb": train["peak_rss_mb"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--size", default="2G")
    p.add_argument("--small", default="10M")
    p.add_argument("--workdir", default="/tmp/charrnn-big")
    p.add_argument("--results", default=str(Path(__file__).parent / "results" / "big_corpus.json"))
    p.add_argument("--keep", action="store_true", help="keep the generated files")
    args = p.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, size in (("small", parse_size(args.small)), ("big", parse_size(args.size))):
        path = work / f"{label}.txt"
        t0 = time.perf_counter()
        make_text(path, size)
        print(
            f"{label}: generated {size / 2**20:.0f} MB in {time.perf_counter() - t0:.0f}s",
            flush=True,
        )
        rows.append(measure(path, work))
        print(json.dumps(rows[-1]), flush=True)
        if not args.keep:
            path.unlink()
            shutil.rmtree(work / f"cache-{path.stem}", ignore_errors=True)
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{'file':>10} {'MB':>8} {'prep MB/s':>10} {'prep RSS MB':>12} {'train RSS MB':>13}")
    for r in rows:
        print(
            f"{r['file']:>10} {r['bytes'] / 2**20:8.0f} {r['prepare_mb_per_s']:10.1f} "
            f"{r['prepare_peak_rss_mb']:12} {r['train_peak_rss_mb']:13}"
        )


if __name__ == "__main__":
    main()
