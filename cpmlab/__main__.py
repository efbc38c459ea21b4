"""python -m cpmlab."""

from cpmlab.cli.main import console

console()
