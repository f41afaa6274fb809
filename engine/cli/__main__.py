"""``python -m engine.cli``: the ``adjudicate`` command, for a checkout
whose console script is not installed (or points at another checkout)."""

from engine.cli import main

main()
