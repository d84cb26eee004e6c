"""Errors the library raises; the CLI turns each into one line on stderr and an exit code.

Library code never prints or exits: it raises a `CharRNNError` subclass with a message that says
what was wrong and what to do instead. Anything else reaching the CLI is a bug.

Exit codes follow the usual convention: 2 when the command line is wrong (`ConfigError`: an
option's value out of range or of the wrong kind, options that contradict each other), 1 when
the command line is fine but the work failed (a file missing, unreadable or corrupt, the network,
a full disk, a diverged run, out of memory). 130 / 143 for SIGINT / SIGTERM are the CLI's.
"""


class CharRNNError(Exception):
    """Something the user can fix. `exit_code` is what the CLI exits with."""

    exit_code = 1


class ConfigError(CharRNNError, ValueError):
    """An option value out of range, or options that do not fit together: a usage error."""

    exit_code = 2


class DataError(CharRNNError):
    """A text file that cannot be used for training, evaluation or inspection."""


class CheckpointError(CharRNNError):
    """A checkpoint file that is missing, corrupt, foreign or incompatible, or cannot be written."""


class TrainingError(CharRNNError):
    """A run that cannot go on: the loss diverged, or the device ran out of memory."""


class OutputError(CharRNNError):
    """A result file (page, dump, corpus, report) that could not be written."""


class DownloadError(CharRNNError):
    """A corpus that could not be downloaded, or did not arrive intact."""


class RunInUseError(CharRNNError):
    """A run directory that another live training process is writing to."""
