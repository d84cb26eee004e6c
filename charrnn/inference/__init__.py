"""Using a trained model: sampling (torch, and the numpy step for the CPU) and scoring text.

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
