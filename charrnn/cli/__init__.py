"""The `charrnn` command: Typer declarations and one thin function per command (cli/train.py,
generate.py, look.py, tools.py). Each builds the typed configs or request from its options
(checked before any file is read), calls the library, and hands the result to terminal.py /
tables.py, the only modules that write to the terminal.

torch and the heavy modules are imported inside the commands, so `charrnn --help` is instant.
`main()` turns usage errors and library errors (`CharRNNError`) into one line and an exit code.
"""

from __future__ import annotations

import importlib
import signal
import sys

import typer

from charrnn.cli.app import Interrupted, app, signals_handled
from charrnn.errors import CharRNNError

__all__ = ["app", "main"]

# Importing a group registers its commands; `charrnn --help` lists them in this order.
for _group in ("train", "generate", "look", "baselines", "tools"):
    importlib.import_module(f"charrnn.cli.{_group}")


# --------------------------------------------------------------------------- entry point
# Click's exception for usage errors (unknown option, missing argument, bad value), reached
# through a public Typer name: Typer re-raises it when not in standalone mode.
UsageException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _interrupted(signum, frame):
    raise Interrupted(signum)


def main(argv: list[str] | None = None) -> None:
    """Runs the app; turns usage errors and library errors into one line and an exit code:
    0 success (also when the reader of stdout goes away), 2 usage, 1 runtime failure, 130 / 143
    interrupted by SIGINT / SIGTERM."""
    args = list(sys.argv[1:] if argv is None else argv)
    groups = {"corpus"}
    if not args or args in ([g] for g in groups):  # no command: the help, and success
        args.append("--help")
    try:
        with signals_handled(_interrupted):
            code = app(args=args, standalone_mode=False)
    except UsageException as e:
        known = {c.name or c.callback.__name__ for c in app.registered_commands} | groups
        command = args[0] if args[0] in known else ""
        hint = f" (see `charrnn {command} --help`)" if command else " (see `charrnn --help`)"
        from charrnn.render import terminal

        terminal.error(f"{e.format_message()}{hint}")
        sys.exit(2)
    except CharRNNError as e:
        from charrnn.render import terminal

        terminal.error(str(e))
        sys.exit(e.exit_code)
    except (Interrupted, KeyboardInterrupt, typer.Abort) as e:
        from charrnn.render import terminal

        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        terminal.error(f"interrupted ({name}); files being written were not left behind.")
        sys.exit(128 + signum)
    except BrokenPipeError:  # `charrnn sample ckpt | head`
        _quiet_stdout()
        sys.exit(0)
    except SystemExit as e:  # Typer (like click) exits 1 when stdout's reader went away
        if isinstance(e.__context__, BrokenPipeError):
            _quiet_stdout()
            sys.exit(0)
        raise
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_stdout() -> None:
    """stdout's reader is gone: send what is left to /dev/null so exiting does not fail."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
