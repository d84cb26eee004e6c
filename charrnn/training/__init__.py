"""Training runs: their configuration, the truncated-BPTT loop, starting and resuming, the
optimizer and schedule, what a run keeps across sessions, budget-aware sizing and its probe,
and the metrics file.

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
