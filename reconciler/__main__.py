"""``python -m reconciler``: the ``reconciler`` command."""

from reconciler.cli import main

main()
