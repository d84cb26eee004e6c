"""Nothing replaced without asking: every command that writes refuses (one line, exit 1, the
file untouched) to replace what charrnn did not write there, replaces its own output of the same
kind, and replaces anything with --overwrite."""

import json

import pytest

from tests.conftest import TINY_TRAIN

PRECIOUS = "the user's own words\n"


def _refused(code, err, path, before):
    lines = [x for x in err.strip().splitlines() if x.strip()]
    return (code == 1 and len(lines) == 1 and "--overwrite" in err and "Traceback" not in err
            and path.read_text(encoding="utf-8") == before)  # fmt: skip


@pytest.mark.parametrize(
    "command",
    [
        ["inspect", "{run}", "--text", "hello world", "--html", "{path}"],
        ["inspect", "{run}", "--text", "hello world", "--out", "{path}"],
        ["eval", "{run}", "{corpus}", "--html", "{path}"],
        ["report", "{run}", "-o", "{path}"],
        ["corpus", "synth", "quotes", "--length", "500", "-o", "{path}"],
    ],
    ids=["inspect-html", "inspect-out", "eval-html", "report", "corpus-synth"],
)
def test_a_file_charrnn_did_not_write_is_kept(cli, run_dir, tmp_path, command):
    run, corpus = run_dir
    suffix = {"--out": ".npz", "-o": ".html"}.get(command[-2], ".html")
    if command[0] == "corpus":
        suffix = ".txt"
    path = tmp_path / f"mine{suffix}"
    path.write_text(PRECIOUS, encoding="utf-8")
    argv = [a.format(run=run, corpus=corpus, path=path) for a in command]
    code, _, err = cli(*argv)
    assert _refused(code, err, path, PRECIOUS), err
    code, _, err = cli(*argv)  # still refused: nothing was written the first time
    assert _refused(code, err, path, PRECIOUS), err
    code, _, err = cli(*argv, "--overwrite")
    assert code == 0, err
    written = path.read_bytes()
    assert written != PRECIOUS.encode()
    code, _, err = cli(*argv)  # now it is charrnn's own output: replaced without asking
    assert code == 0, err


def test_export_keeps_a_users_directory_and_another_models_export(cli, run_dir, tmp_path):
    run, corpus = run_dir
    project = tmp_path / "myproj"
    project.mkdir()
    (project / "README.md").write_text(PRECIOUS, encoding="utf-8")
    code, _, err = cli("export", run, project)
    assert _refused(code, err, project / "README.md", PRECIOUS) and "README.md" in err, err
    assert sorted(p.name for p in project.iterdir()) == ["README.md"]

    code, _, err = cli("export", run, tmp_path / "shared")
    assert code == 0, err
    code, _, err = cli("export", run, tmp_path / "shared")  # the same model again: fine
    assert code == 0, err
    other = tmp_path / "other"
    code, _, err = cli("train", corpus, "--out", other, "--max-steps", "10", "--seed", "9",
                       *TINY_TRAIN)  # fmt: skip
    assert code == 0, err
    card = (tmp_path / "shared" / "README.md").read_text(encoding="utf-8")
    code, _, err = cli("export", other, tmp_path / "shared")
    assert _refused(code, err, tmp_path / "shared" / "README.md", card), err
    assert "another model" in err
    code, _, err = cli("export", other, tmp_path / "shared", "--overwrite")
    assert code == 0, err
    config = json.loads((tmp_path / "shared" / "config.json").read_text(encoding="utf-8"))
    assert config["format"] == "charrnn-export"
    assert (tmp_path / "shared" / "README.md").read_text(encoding="utf-8") != card


def test_corpus_outputs_are_files_or_directories_alike(cli, tmp_path):
    """-o means the same for synth, build and get: a name with a suffix is the file, anything
    else a directory that gets NAME.txt."""
    code, out, err = cli("corpus", "synth", "lines", "--length", "300", "-o", tmp_path / "texts")
    assert code == 0, err
    assert (tmp_path / "texts" / "lines.txt").is_file()
    code, out, err = cli("corpus", "synth", "lines", "--length", "300", "-o", tmp_path / "a.txt")
    assert code == 0 and (tmp_path / "a.txt").read_text() == (tmp_path / "texts" / "lines.txt"
                                                                ).read_text()  # fmt: skip
