"""Corpora the project provides: download recipes (recipes.json), a builder for a corpus found on
every machine (pystdlib), and generators of synthetic text with known structure (synth)."""
