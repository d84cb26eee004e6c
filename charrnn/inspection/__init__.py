"""Looking inside a model: activations of every gate and state, text features, unit search,
gradient flow, activation dumps, and the actions `charrnn inspect` runs.

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
