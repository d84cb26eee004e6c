"""Text to ids to training windows: the vocabulary, corpus encoding and its token cache, new text
read under a model's vocabulary, and the batch layout.

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
