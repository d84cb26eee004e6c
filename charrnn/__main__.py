"""`python -m charrnn` (also what `torchrun -m charrnn` runs)."""

from charrnn.cli import main

main()
