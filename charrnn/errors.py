"""Errors the library raises for bad input; the CLI turns each into one line and an exit code.

Library code never prints or exits: it raises `CharRNNError` (or a subclass) with a message that
says what was wrong and what to do instead. Anything else reaching the CLI is a bug.
"""


class CharRNNError(Exception):
    """Bad input the user can fix. `exit_code` is what the CLI exits with."""

    exit_code = 2


class DataError(CharRNNError):
    """A text file that cannot be used for training or evaluation."""


class CheckpointError(CharRNNError):
    """A checkpoint file that is missing, corrupt, foreign or incompatible."""


class ConfigError(CharRNNError):
    """An option value out of range, or options that do not fit together."""
