"""The terminal: the one place (with tables.py) that writes to it. Results go to stdout,
everything else (progress, notes, errors) to stderr, so `charrnn sample run | head` works.

User text (paths, primes, corpus text, patterns) is never parsed as Rich markup: the consoles
have markup off and styled output is built from `Text` parts. `safe()` shows control characters
as escapes (`\\x1b`, `\\n`), so a message stays one line and cannot drive the terminal.

Training shows a Rich progress bar on a terminal and plain one-line records elsewhere (CI logs,
pipes), at most one every few seconds plus every validation.
"""

from __future__ import annotations

import contextlib
import time
import unicodedata

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from charrnn.render.numbers import count
from charrnn.training import events

err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)


ESCAPED = {"Cc", "Cf", "Cs", "Zl", "Zp"}  # controls, format (bidi), surrogates, line breaks


def safe(text) -> str:
    """`text` as shown on a terminal: verbatim, but control characters, bidirectional overrides
    and line breaks as Python escapes (one line, nothing the terminal would act on)."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ESCAPED else ch
        for ch in text
    )


def error(message: str) -> None:
    err.print(Text.assemble(("error:", "bold red"), " ", safe(message)))


def note(message: str, style: str = "") -> None:
    err.print(Text(safe(message), style=style))


def result(text: str) -> None:
    """A result on stdout, as it is (JSON, or a line the caller made safe)."""
    print(text, flush=True)


class _Rate(ProgressColumn):
    """Characters per second (Rich's own speed column counts bytes)."""

    def render(self, task) -> Text:
        return Text(f"{count(task.speed)} chars/s" if task.speed else "")


@contextlib.contextmanager
def progress(enabled: bool = True, unit: str = "chars", delay: float = 2.0):
    """A callback (phase, done, total) drawing one bar per phase on stderr — done, rate, time
    left — only on a terminal, and only once the work has gone on for `delay` seconds, so quick
    commands stay quiet. `unit` is "chars" or "bytes"."""
    if not enabled or not err.is_terminal:
        yield None
        return
    columns = (
        [DownloadColumn(), TransferSpeedColumn()]
        if unit == "bytes"
        else [TextColumn("{task.completed:,.0f} / {task.total:,.0f} chars"), _Rate()]
    )
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        *columns,
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    started, tasks = time.monotonic(), {}

    def update(phase: str, done: int, total: int | None) -> None:
        if not tasks and time.monotonic() - started < delay:
            return
        if not tasks:
            bar.start()
        if phase not in tasks:
            tasks[phase] = bar.add_task(safe(phase), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


def byte_progress(enabled: bool = True):
    return progress(enabled, unit="bytes", delay=0.0)


class _StatusColumn(ProgressColumn):
    """The training status, cut to the room the bar, percentage and time left leave on the line
    (Rich would shrink the bar away to fit a long status column instead)."""

    FIXED = 42  # "train", the bar, the percentage, the time left and the gaps between them

    def __init__(self, width):
        super().__init__()
        self.width = width

    def render(self, task) -> Text:
        status = Text(task.fields["status"], no_wrap=True)
        status.truncate(max(8, self.width() - self.FIXED), overflow="ellipsis")
        return status


class TrainView:
    """Consumes the training loop's records (and launch's; training/events.py) and shows them."""

    def __init__(self, live: bool | None = None, plain_interval: float = 5.0, quiet: bool = False,
                 console: Console | None = None):  # fmt: skip
        self.console = console or err
        self.live = self.console.is_terminal if live is None else live
        self.quiet = quiet
        self.plain_interval = plain_interval
        self.last_plain = 0.0
        self.val_bpc = None
        self.progress = None
        self.task = None

    def __enter__(self):
        if self.live and not self.quiet:
            # bar, percentage and time left first, at their width; the status takes what is
            # left of the line and is cut short (not wrapped, not the bar) on a narrow terminal
            self.progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(bar_width=20),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeRemainingColumn(),
                _StatusColumn(lambda: self.console.width),
                console=self.console,
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("train", total=1.0, status="starting")
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def say(self, text: str, style: str = "") -> None:
        if not self.quiet:
            console = self.progress.console if self.progress else self.console
            console.print(Text(safe(text), style=style))

    def __call__(self, r: dict) -> None:
        kind = r["kind"]
        if kind == events.Autosize.KIND:
            self.say(
                f"autosize: {r['num_layers']}x{r['hidden_size']} {r['model']} "
                f"({count(r['params'])} parameters), batch {r['batch_size']}, seq "
                f"{r['seq_len']}, lr {r['lr']:.2g}, dropout {r['dropout']:g}, {r['precision']}: "
                f"{r['reason']}. Give --hidden-size / --num-layers to choose yourself."
            )
        elif kind == events.Start.KIND:
            cfg = r["model_config"]
            self.say(
                f"model: {cfg['num_layers']}x{cfg['hidden_size']} {cfg['model']}, embed "
                f"{cfg['embed_size']}, {count(r['params'])} parameters; data: "
                f"{count(r['train_chars'])} train / {count(r['val_chars'])} val / "
                f"{count(r['test_chars'])} test chars, {r['steps_per_epoch']} steps per epoch"
                + (f"; resuming at step {r['step']}" if r["resumed"] else "")
            )
        elif kind == events.Train.KIND:
            status = (
                f"epoch {r['epoch']} step {r['step']} loss {r['loss']:.3f}"
                + (f" val bpc {self.val_bpc:.3f}" if self.val_bpc is not None else "")
                + f" | {count(r['chars_per_s'])} chars/s"
                + f" | grad {r['grad_norm']:.2f} clip {r['clip_frac']:.0%}"
            )
            if self.progress is not None:
                self.progress.update(self.task, completed=r["progress"], status=status)
            elif time.monotonic() - self.last_plain >= self.plain_interval:
                self.last_plain = time.monotonic()
                self.say(f"{status} | {r['progress']:.0%} | lr {r['lr']:.2e}")
        elif kind == events.Val.KIND:
            self.val_bpc = r["val_bpc"]
            self.say(
                f"step {r['step']}: val loss {r['val_loss']:.4f} nats, {r['val_bpc']:.4f} bpc"
                + (" (best)" if r["best"] else "")
            )
        elif kind == events.Test.KIND:
            self.say(f"test loss {r['test_loss']:.4f} nats, {r['test_bpc']:.4f} bpc")
        elif kind == events.Note.KIND:
            self.say(r["text"], style="yellow")
        elif kind == events.NonFinite.KIND:
            self.say(
                f"step {r['step']}: non-finite loss or gradient, update skipped "
                f"({r['in_a_row']} in a row)",
                style="yellow",
            )
        if self.progress is not None and kind in (events.Done.KIND, events.Checkpoint.KIND):
            done = kind == events.Done.KIND
            self.progress.update(self.task, completed=1.0 if done else None)
