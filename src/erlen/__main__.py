"""``python -m erlen``: the same as the ``erlen`` command."""

from .cli import main

main()
