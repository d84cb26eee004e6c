"""The HTML pages: escaping in Python, and behaviour in headless Chromium as a person sees it."""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import TINY_TRAIN
from tests.webdriver import Browser, find_browser

HOSTILE = (
    "x = \"<script>window.pwned = 1</script>\" # </script><b>bold</b> & 'quote' "
    '<img src=x onerror="window.pwned=2"> \u00e9\u65e5\U0001f600 \u2028 end\n'
)


HOSTILE_TEXT = (HOSTILE + "def f(a, [b]):\n    return (a)\n") * 40


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """A tiny model trained on text full of HTML, and the pages made from it."""
    from charrnn.cli import main

    tmp = tmp_path_factory.mktemp("html")
    corpus = tmp / "hostile.txt"
    corpus.write_text(HOSTILE_TEXT, encoding="utf-8")
    for args in (
        ["train", corpus, "--out", tmp / "run", "--max-steps", "30", *TINY_TRAIN],
        ["inspect", tmp / "run", corpus, "--html", tmp / "inspect.html", "--max-chars", "3000"],
        ["eval", tmp / "run", corpus, "--html", tmp / "eval.html"],
        ["report", tmp / "run", "-o", tmp / "report.html"],
        [
            "compare",
            tmp / "run",
            corpus,
            "--train",
            corpus,
            "--order",
            "3",
            "--html",
            tmp / "compare.html",
        ],  # fmt: skip
        [
            "inspect",
            tmp / "run",
            corpus,
            "--grad-flow",
            "--horizon",
            "20",
            "--windows",
            "4",
            "--html",
            tmp / "gradflow.html",
            "--max-chars",
            "1500",
        ],
    ):
        with pytest.raises(SystemExit) as e:
            main([str(a) for a in args])
        assert e.value.code == 0, args
    return tmp


@pytest.mark.parametrize("page", ["inspect.html", "eval.html", "compare.html"])
def test_pages_are_self_contained_and_escape_corpus_text(hostile_run, page):
    source = (hostile_run / page).read_text(encoding="utf-8")
    assert "<script>window.pwned" not in source and "<img src=x" not in source
    assert source.count("<script") == 2  # the JSON data block and the viewer
    assert "http://" not in source and "https://" not in source  # nothing fetched


def test_inspect_page_has_rankings_and_saturation(hostile_run):
    source = (hostile_run / "inspect.html").read_text(encoding="utf-8")
    assert "Units that follow text features" in source and "class='saturation'" in source


browser_missing = find_browser() is None


@pytest.fixture(scope="module")
def browser():
    if browser_missing:
        pytest.skip(
            "headless Chromium not installed (Debian packages chromium and "
            "chromium-driver; .ci/run installs them)"
        )
    b = Browser(*find_browser())
    yield b
    b.quit()


def _colors(browser):
    return browser.js(
        "return Array.from(document.querySelectorAll('#text span'))"
        ".map(s => s.style.backgroundColor)"
    )


@pytest.mark.browser
def test_inspect_page_in_chromium(browser, hostile_run, tmp_path):
    browser.get((hostile_run / "inspect.html").as_uri())
    assert browser.js("return document.body.dataset.ready") == "1"
    assert browser.console_errors() == []
    assert browser.js("return window.pwned") is None  # the corpus's <script> did not run
    text = browser.js("return document.getElementById('text').textContent")
    assert "<script>window.pwned = 1</script>" in text and "<b>bold</b>" in text
    assert browser.js("return document.querySelectorAll('#text b, #text img').length") == 0
    before = _colors(browser)
    assert len(before) == 3000  # one span per character (an emoji is one, not two)
    assert all(before) and len(set(before)) > 5  # every character colored, not all alike
    browser.click("#next")
    after = _colors(browser)
    assert after != before  # switching the unit recolors the text
    browser.js("charrnnSelect(0, 'c', 3)")
    assert _colors(browser) != after
    browser.hover("#text span:nth-child(5)")
    tip = browser.js(
        "return [document.getElementById('tip').style.display, "
        "document.getElementById('tip').textContent]"
    )
    assert tip[0] == "block" and "%" in tip[1] and "next-character guesses" in tip[1]
    browser.click("tr.pick")
    assert browser.js("return location.hash").startswith("#layer=")
    shots = Path(os.environ.get("CHARRNN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    browser.screenshot(shots / "inspect.png")
    assert browser.console_errors() == []


@pytest.mark.browser
def test_eval_page_in_chromium(browser, hostile_run, tmp_path):
    browser.get((hostile_run / "eval.html").as_uri())
    assert browser.js("return document.body.dataset.ready") == "1"
    assert browser.console_errors() == [] and browser.js("return window.pwned") is None
    colors = _colors(browser)
    assert len(colors) == len(HOSTILE_TEXT) and all(colors) and len(set(colors)) > 3
    browser.hover("#text span:nth-child(30)")
    assert "the model expected" in browser.js("return document.getElementById('tip').textContent")
    shots = Path(os.environ.get("CHARRNN_SCREENSHOTS", tmp_path))
    browser.screenshot(shots / "eval.png")


@pytest.mark.browser
def test_compare_page_in_chromium(browser, hostile_run, tmp_path):
    browser.get((hostile_run / "compare.html").as_uri())
    assert browser.js("return document.body.dataset.ready") == "1"
    assert browser.console_errors() == [] and browser.js("return window.pwned") is None
    colors = _colors(browser)
    assert len(colors) == len(HOSTILE_TEXT) and len(set(colors)) > 3  # blue and red both
    browser.hover("#text span:nth-child(40)")
    tip = browser.js("return document.getElementById('tip').textContent")
    assert "run expected" in tip and "3-gram expected" in tip and "bits" in tip
    assert browser.js("return document.querySelectorAll('table').length") >= 4
    shots = Path(os.environ.get("CHARRNN_SCREENSHOTS", tmp_path))
    browser.screenshot(shots / "compare.png")


def test_json_block_cannot_be_closed_early(hostile_run):
    from charrnn.render import html

    out = html.page("t", "", {"text": "</script><script>alert(1)</script>"})
    block = out.split('id="charrnn-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["text"] == "</script><script>alert(1)</script>"


@pytest.mark.browser
@pytest.mark.parametrize("page", ["report.html", "gradflow.html", "inspect.html", "compare.html"])
def test_every_chart_reads_right_in_chromium(browser, hostile_run, tmp_path, page):
    """Every chart is drawn, its tick labels and legends lie inside it, and no text overlaps
    another within a chart; a screenshot of each page is kept."""
    browser.get((hostile_run / page).as_uri())
    assert browser.console_errors() == []
    charts = browser.js(
        "return Array.from(document.querySelectorAll('svg')).map(svg => {"
        "  const box = svg.getBoundingClientRect();"
        "  const texts = Array.from(svg.querySelectorAll('text')).map(t => {"
        "    const b = t.getBoundingClientRect();"
        "    return {text: t.textContent, cls: t.getAttribute('class'), x0: b.left, x1: b.right,"
        "            y0: b.top, y1: b.bottom}; });"
        "  return {w: box.width, h: box.height, x0: box.left, y0: box.top, texts: texts}; })"
    )
    assert charts
    for chart in charts:
        assert chart["w"] > 50 and chart["h"] > 30
        for t in chart["texts"]:  # inside the chart
            assert t["x0"] >= chart["x0"] - 1 and t["x1"] <= chart["x0"] + chart["w"] + 1, t
            assert t["y0"] >= chart["y0"] - 1 and t["y1"] <= chart["y0"] + chart["h"] + 1, t
        ticks = [t for t in chart["texts"] if t["cls"] in ("xtick", "ytick")]
        for i, a in enumerate(ticks):  # tick labels never overlap
            for b in ticks[i + 1 :]:
                overlap_x = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                overlap_y = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
                assert overlap_x <= 0.5 or overlap_y <= 0.5, (a, b)
    if page == "report.html":
        clipping = next(c for c in charts if any(t["text"] == "clipping" for t in c["texts"]))
        yticks = [t["text"] for t in clipping["texts"] if t["cls"] == "ytick"]
        assert yticks[0] == "0" and yticks[-1] == "1"
    if page == "inspect.html":  # the viewer's legend names the scale of what is shown
        browser.js("charrnnSelect(0, 'f', 0)")
        assert browser.js("return document.getElementById('legend').textContent").startswith("0")
        browser.js("charrnnSelect(0, 'c', 0)")
        assert "tanh" in browser.js("return document.getElementById('legend').textContent")
    browser.js("document.querySelectorAll('svg')[0].scrollIntoView()")
    shots = Path(os.environ.get("CHARRNN_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    browser.screenshot(shots / page.replace(".html", "-charts.png"))


@pytest.mark.browser
@pytest.mark.parametrize("mode", ["map", "skip"])
def test_unseen_characters_are_marked_on_the_pages(browser, hostile_run, tmp_path, mode):
    from charrnn.cli import main

    text = tmp_path / "new.txt"
    text.write_text("ΩΩdef f(a, [b]):\n    return (a)\nΩ" * 3 + "end Ω", encoding="utf-8")
    for page, command in (("eval.html", "eval"), ("inspect.html", "inspect")):
        with pytest.raises(SystemExit) as e:
            main([command, str(hostile_run / "run"), str(text), "--unknown", mode,
                  "--html", str(tmp_path / page)])  # fmt: skip
        assert e.value.code == 0
        browser.get((tmp_path / page).as_uri())
        assert browser.console_errors() == []
        if mode == "map":
            marked = browser.js("return document.querySelectorAll('#text span.unseen').length")
            assert marked == text.read_text().count("Ω")
            style = browser.js(
                "return getComputedStyle(document.querySelector('#text span.unseen')).outlineStyle"
            )
            assert style == "dashed"
            browser.hover("#text span.unseen")
            assert "never saw" in browser.js("return document.getElementById('tip').textContent")
        else:
            assert browser.js("return document.querySelectorAll('span.after-skip').length") == 4
            assert browser.js("return document.querySelectorAll('span.skip-after').length") == 1
            mark = browser.js(
                "return getComputedStyle(document.querySelector('span.after-skip'), '::before')"
                ".content"
            )
            assert mark not in ("none", "normal", "")
        browser.screenshot(tmp_path / f"{mode}-{page}.png")
