"""The model: the cell registry (cells.py), its torch-free configuration (config.py) and the torch
network (network.py).

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
