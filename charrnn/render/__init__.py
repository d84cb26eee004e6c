"""Everything people see: the terminal (the only module that writes to it, with tables.py),
HTML pages, SVG charts and the run report.

Importing this package imports nothing else (`charrnn --help` stays torch-free)."""
