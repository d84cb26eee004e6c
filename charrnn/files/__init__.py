"""Checkpoint files: the torch-free format (paths, header, metadata) and the torch save/load path.

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
