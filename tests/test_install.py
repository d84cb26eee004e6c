"""What `pip install .` ships: every package of the tree is in the wheel, and the wheel, installed
into a fresh environment beside an already-installed torch, trains, samples and draws a page
from outside the checkout (an editable install would hide a missing module or asset)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def _packages_in_tree() -> set[str]:
    found = {"charrnn.corpora"} if (ROOT / "corpora" / "__init__.py").is_file() else set()
    for init in (ROOT / "charrnn").rglob("__init__.py"):
        if "__pycache__" not in init.parts:
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


@pytest.mark.skipif(tomllib is None, reason="reading pyproject.toml needs Python 3.11's tomllib")
def test_pyproject_lists_every_package_of_the_tree():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    assert listed == _packages_in_tree()


@pytest.mark.slow
def test_the_wheel_installed_beside_torch_trains_samples_and_inspects(tmp_path):
    wheels, source = tmp_path / "wheels", tmp_path / "source"
    source.mkdir()  # built from a copy, so the checkout gets no build/ or egg-info
    for folder in ("charrnn", "corpora"):
        shutil.copytree(ROOT / folder, source / folder, ignore=IGNORED)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "--no-index", "-w", str(wheels), "--quiet", "--disable-pip-version-check"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("charrnn-*.whl")

    # A fresh environment that sees this one's packages (torch, typer, ...) but not its
    # editable charrnn: a .pth line adds the directory without running its own .pth files.
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False, system_site_packages=False)
    python = env_dir / "bin" / "python"
    site = subprocess.check_output(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip()
    Path(site, "beside.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [python, "-m", "pip", "install", str(wheel), "--no-index", "--quiet",
         "--disable-pip-version-check"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr  # torch and the rest found, nothing fetched

    work = tmp_path / "elsewhere"
    work.mkdir()
    corpus = work / "corpus.txt"
    corpus.write_text('print("hello", x)\nreturn (a, [b])\n' * 80, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    charrnn = str(env_dir / "bin" / "charrnn")

    def run(*args):
        done = subprocess.run([charrnn, *map(str, args)], capture_output=True, text=True,
                              cwd=work, env=environment, timeout=300)  # fmt: skip
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    where = subprocess.check_output(
        [python, "-c", "import charrnn; print(charrnn.__file__)"], text=True, cwd=work
    )
    assert Path(where.strip()).is_relative_to(env_dir), where
    assert "inspect" in run("--help")
    run("train", corpus, "--out", "run", "--max-steps", "12", "--hidden-size", "16",
        "--embed-size", "8", "--batch-size", "2", "--seq-len", "16", "--eval-every", "6",
        "--quiet")  # fmt: skip
    sample = run("sample", "run", "--length", "40", "--seed", "1")
    assert len(sample) >= 40
    run("inspect", "run", corpus, "--html", "look.html", "--max-chars", "500")
    page = (work / "look.html").read_text(encoding="utf-8")
    assert "<script>" in page and len(page) > 5000  # the viewer's script and styles are inlined
    run("corpus", "synth", "quotes", "--length", "2000", "-o", "q.txt")  # charrnn.corpora
    assert (work / "q.txt").stat().st_size >= 2000
