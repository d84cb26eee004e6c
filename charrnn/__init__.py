"""charrnn: train, sample and look inside character-level RNN language models."""

__version__ = "0.1.0"
