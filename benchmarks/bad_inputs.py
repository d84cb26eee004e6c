"""Runs charrnn on every bad input we know of and prints the README's table: the command, the
exit code and the one line the user sees. Each case must exit non-zero with one line on stderr
and no traceback (the tests assert the same cases).

    python benchmarks/bad_inputs.py > /tmp/table.md
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
from pathlib import Path


def setup(tmp: Path) -> dict:
    text = "def f(a, b):\n    return (a + b) * 2  # sum\n" * 200
    (tmp / "corpus.txt").write_text(text)
    (tmp / "other.txt").write_text("Completely different alphabet: QZXJ! " * 300)
    (tmp / "empty.txt").write_text("")
    (tmp / "short.txt").write_text("tiny text")
    (tmp / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp / "latin1.txt").write_bytes("caf\xe9 ol\xe9 ".encode("latin-1") * 100)
    (tmp / "pickle.ckpt").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    (tmp / "huge_header.ckpt").write_bytes((2**60).to_bytes(8, "little") + b"{}")
    (tmp / "a_file").write_text("x")
    (tmp / "unreadable.txt").write_text("x")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "charrnn",
            "train",
            str(tmp / "corpus.txt"),
            "--out",
            str(tmp / "run"),
            "--max-steps",
            "3",
            "--hidden-size",
            "16",
            "--batch-size",
            "4",
            "--seq-len",
            "16",
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    return {"t": tmp}


CASES = [
    "train {t}/missing.txt",
    "train {t}",
    "train {t}/empty.txt",
    "train {t}/short.txt --batch-size 64",
    "train {t}/binary.bin",
    "train {t}/latin1.txt",
    "train {t}/corpus.txt --model transformer",
    "train {t}/corpus.txt --hidden-size 0",
    "train {t}/corpus.txt --hidden-size 1000000",
    "train {t}/corpus.txt --num-layers -1",
    "train {t}/corpus.txt --dropout 1.5",
    "train {t}/corpus.txt --lr 0",
    "train {t}/corpus.txt --lr nan",
    "train {t}/corpus.txt --epochs 0",
    "train {t}/corpus.txt --time soon",
    "train {t}/corpus.txt --val-frac 0.95",
    "train {t}/corpus.txt --min-count 1000000",
    "train {t}/corpus.txt --threads 0",
    "train {t}/corpus.txt --out {t}/a_file",
    "train {t}/corpus.txt --out {t}/run",
    "train {t}/other.txt --resume {t}/run",
    "train {t}/corpus.txt --resume {t}/run --hidden-size 64",
    "train {t}/corpus.txt --resume {t}/run/best.ckpt",
    "train {t}/corpus.txt --precision fp16",
    "train {t}/corpus.txt --device cuda",
    "sample {t}/missing.ckpt",
    "sample drafts/[/draft]/x.ckpt",
    "sample {t}/pickle.ckpt",
    "sample {t}/huge_header.ckpt",
    "sample {t}/corpus.txt",
    "sample {t}/run --temperature 0",
    "sample {t}/run --top-k 0",
    "sample {t}/run --prime €uro",
    "eval {t}/run {t}/other.txt --unknown error",
    "inspect {t}/run --text abc",
    "inspect {t}/run --text 'f(a)' --out x.txt",
    "inspect {t}/run --text 'f(a)' --find sentiment",
    "inspect {t}/run --text 'f(a)' --layer 3 --out x.npz",
    "inspect {t}/run --text 'f(a)' --match 9:2",
    "corpus get nonsense",
    "corpus get tinyshakespeare --url http://127.0.0.1:9/input.txt --dir {t}/d",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        names = setup(Path(d))
        print("| command | exit | what the user sees (stderr) |")
        print("|---|---|---|")
        for case in CASES:
            args = [a.strip("'") for a in case.format(**names).split(" ")]
            if "--text" in args:  # keep the quoted text together
                i = args.index("--text")
                args[i + 1] = args[i + 1].strip("'")
            proc = subprocess.run(
                [sys.executable, "-m", "charrnn", *args],
                capture_output=True,
                text=True,
                timeout=120,
            )
            lines = [x for x in proc.stderr.splitlines() if x.strip()]
            assert proc.returncode != 0 and len(lines) == 1 and "Traceback" not in proc.stderr, (
                case,
                proc.returncode,
                proc.stderr,
            )
            shown = lines[0].replace(d, "…").replace("|", "\\|")
            print(
                f"| `charrnn {case.replace('{t}/', '').replace('{t}', '.')}` | "
                f"{proc.returncode} | {shown} |"
            )


if __name__ == "__main__":
    main()
