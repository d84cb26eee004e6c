"""User text full of markup, emoji codes, control and non-BMP characters, in every place a user
can give text: each command answers in one line, shows the text verbatim (control characters as
escapes) and never prints a traceback."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charrnn.render.terminal import safe

PIECES = ["[", "]", "[/x]", "[bold]", ":smile:", ":END:", "\x1b[31m", "\x07", "\t", "\n", "\r",
          "\u202e", "😀", "𝄞", "é", "ab", " ", "%s", "{}", "\\"]  # fmt: skip
# (no NUL: a command line cannot hold one)
hostile = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join)
SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _one_line(code, err):
    lines = [x for x in err.splitlines() if x.strip()]
    return code in (1, 2) and len(lines) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["train", "{path}"],
        ["prepare", "{path}"],
        ["sample", "{path}"],
        ["info", "{path}"],
        ["report", "{path}"],
        ["eval", "{run}", "{path}"],
        ["inspect", "{run}", "{path}", "--saturation"],
        ["train", "{corpus}", "--out", "{run}"],
        ["train", "{corpus}", "--resume", "{path}"],
    ],
)
@given(name=hostile)
@SETTINGS
def test_paths(cli, run_dir, tmp_path, command, name):
    run, corpus = run_dir
    path = tmp_path / ("x" + name)  # never exists
    argv = [a.format(path=path, run=run, corpus=corpus) for a in command]
    code, out, err = cli(*argv)
    assert _one_line(code, err), (argv, code, err)
    if "{path}" in command:
        assert safe(str(path)) in err, err


@given(text=hostile)
@SETTINGS
def test_primes_and_texts(cli, run_dir, text):
    run, _ = run_dir
    for argv in (
        ["sample", run, "--prime", "x" + text, "-n", "3"],
        ["inspect", run, "--text", text, "--find", f"regex:{text}"],
        ["inspect", run, "--text", text, "--match", text],
        ["inspect", run, "--text", "print(x)", "--find", text],
        ["corpus", "get", text],
        ["train", run, "--time", text],
        ["inspect", run, "--text", "print(x)", "--units", text, "--saturation"],
    ):
        code, out, err = cli(*argv)
        assert "Traceback" not in err + out, (argv, err)
        if code:
            assert _one_line(code, err), (argv, code, err)
