"""``python -m engine``: the adjudicate command line."""

from engine.cli import main

main()
