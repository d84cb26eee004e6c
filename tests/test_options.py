"""One field, one edit: every config field is declared once (options.py) and the command line,
the Python API and the model card's command all derive from that declaration."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
import typer
from typer.main import get_command

from charrnn.cli import app
from charrnn.cli.app import declared, values
from charrnn.data.config import DataConfig
from charrnn.errors import ConfigError
from charrnn.export import training_commands
from charrnn.inference.sample import SampleConfig
from charrnn.model.config import ModelConfig
from charrnn.options import (
    check_ranges,
    declaration,
    declared_fields,
    flag_of,
    given_values,
    option,
)
from charrnn.training.config import TrainConfig, TrainRequest, request_from
from charrnn.training.history import RunSummary

COMPOSITE = {"model", "train", "data", "given"}  # TrainRequest's parts, not options
COMMANDS = {"train": (TrainRequest, ModelConfig, TrainConfig, DataConfig),
            "sample": (SampleConfig,), "prepare": (DataConfig,)}  # fmt: skip


def _command(name: str):
    return get_command(app).commands[name]


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig, DataConfig, SampleConfig, TrainRequest])
def test_every_field_is_declared(cls):
    undeclared = {f.name for f in fields(cls)} - {f.name for f in declared_fields(cls)}
    assert undeclared == (COMPOSITE if cls is TrainRequest else set())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_declared_field_is_an_option_of_its_command_or_api_only(command):
    params = {p.name: p for p in _command(command).params}
    for cls in COMMANDS[command]:
        for f in declared_fields(cls):
            d = declaration(f)
            if not d.cli:
                assert f.name not in params
                continue
            assert f.name in params, f"{cls.__name__}.{f.name} has no option on {command}"
            assert d.argument or flag_of(f) in params[f.name].opts
            assert d.argument or d.help in (params[f.name].help or "")


def test_api_only_fields_are_few_and_named():
    api_only = {f"{cls.__name__}.{f.name}" for cls in (ModelConfig, TrainConfig, DataConfig,
                SampleConfig, TrainRequest) for f in declared_fields(cls)
                if not declaration(f).cli}  # fmt: skip
    assert api_only == {"ModelConfig.vocab_size"}  # set by the corpus


def test_the_api_takes_every_option_by_name_and_by_cli_spelling(tmp_path):
    request = request_from({"file": tmp_path / "t.txt", "time": "1m30s", "hidden_size": 32,
                            "unit": "byte", "model": "gru", "precision": "fp32"})  # fmt: skip
    assert request.train.time_limit == 90.0
    assert (request.model.hidden_size, request.model.cell) == (32, "gru")
    assert (request.data.level, request.precision) == ("byte", "fp32")
    assert request.given == {"time_limit", "hidden_size", "level", "cell"}
    same = request_from({"file": tmp_path / "t.txt", "time_limit": 90})
    assert same.train.time_limit == 90
    with pytest.raises(ConfigError, match="unknown option 'hiden_size'"):
        request_from({"file": tmp_path / "t.txt", "hiden_size": 32})
    with pytest.raises(ConfigError, match="--unit must be one of char, byte"):
        request_from({"file": tmp_path / "t.txt", "unit": "word"})


def test_a_new_declared_field_becomes_an_option_with_its_bounds_and_parser():
    """What adding an option takes: the declaration, and the code that uses it."""

    @dataclass(frozen=True)
    class Extra:
        depth: int = option(3, "How deep.", 1, 9)
        wait: float | None = option(None, "How long.", flag="--pause", parse=lambda t: len(t))
        colour: str = option("red", "Which.", choices=("red", "blue"))

        def __post_init__(self):
            check_ranges(self)

    seen = {}
    demo = typer.Typer()

    @demo.command()
    @declared(Extra)
    def run(**options):
        seen.update(given_values(Extra, values(options)))
        Extra(**seen)  # as the real commands build their configs: the bounds are checked

    @demo.command()
    def other():  # two commands, so `run` is a subcommand
        pass

    from typer.testing import CliRunner

    result = CliRunner().invoke(demo, ["run", "--depth", "4", "--pause", "abc", "--colour", "blue"])
    assert result.exit_code == 0, result.output
    assert Extra(**seen) == Extra(depth=4, wait=3, colour="blue")
    refused = CliRunner().invoke(demo, ["run", "--depth", "10"])  # its bound
    assert isinstance(refused.exception, ConfigError) and "--depth 10" in str(refused.exception)
    assert "[1 <= x <= 9]" in CliRunner().invoke(demo, ["run", "--help"]).output
    assert CliRunner().invoke(demo, ["run", "--colour", "green"]).exit_code == 2  # its choices


def test_the_model_cards_command_trains_the_same_model_again():
    model = ModelConfig(vocab_size=256, cell="gru", hidden_size=48, num_layers=2, dropout=0.1)
    train = TrainConfig(time_limit=150.0, seq_len=32, ema=0.99, eval_batch_size=4)
    data = DataConfig(level="byte", max_vocab=None, min_count=3)
    meta = {"corpus": {"name": "notes.txt"}, "train_config": train.to_dict(),
            "data_config": data.to_dict()}  # fmt: skip
    command = training_commands(meta, model, RunSummary(), "notes")
    args = shlex.split(command.replace("\\\n", " "))
    assert args[:3] == ["charrnn", "train", "notes.txt"]
    ctx = _command("train").make_context("train", args[2:])
    request = request_from({k: v for k, v in values(ctx.params).items() if k != "quiet"})
    assert request.model == ModelConfig.from_dict({**model.to_dict(), "vocab_size": None})
    assert request.train == train
    assert request.data == data
    assert request.file == Path("notes.txt")


@pytest.mark.parametrize("cls", [ModelConfig, TrainConfig, DataConfig, SampleConfig])
def test_help_ranges_are_the_ranges_enforced(cls):
    """Each bound the help shows is the one enforced: an open bound (dropout < 1, temperature
    > 0) reads as one and its value is refused; a closed one reads <= and is allowed."""
    group = get_command(app)
    command = group.commands["sample" if cls is SampleConfig else "train"]
    help_text = " ".join(command.get_help(typer.Context(command)).split())
    for f in declared_fields(cls):
        d = declaration(f)
        if not d.range.bounded or not d.cli or d.parse:
            continue
        shown = re.search(rf"{re.escape(flag_of(f))} <\w+> .*?\[([^\]]*x[^\]]*)\]", help_text)
        assert shown, f.name
        for bound, is_open, side in ((d.range.low, d.range.low_open, "low"),
                                     (d.range.high, d.range.high_open, "high")):  # fmt: skip
            if bound is None:
                continue
            op = ("<" if is_open else "<=") if side == "high" or d.range.high is not None else (
                ">" if is_open else ">=")  # fmt: skip
            assert f"{op} {bound:g}" in shown.group(1) or f"{bound:g} {op}" in shown.group(1)
            try:
                cls(**{f.name: type(f.default)(bound) if f.default is not None else bound})
                accepted = True
            except ConfigError:
                accepted = False
            assert accepted == (not is_open), (f.name, bound)
