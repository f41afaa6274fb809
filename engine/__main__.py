"""``python -m engine``: the adjudicate command line."""

from .cli import main

main()
