"""The command line: parse options, call the library, render, choose the exit code.

Nothing here decides anything about a plan; every error the library raises is a
``ReconcilerError`` whose message is printed as is, with exit code 1. The commands live in
the submodules, by theme; importing this package registers them all on ``cli``.
"""

from __future__ import annotations

from reconciler.cli import links, planning, sandbox, validate, workspace
from reconciler.cli.group import ReconcilerGroup, cli

__all__ = ["ReconcilerGroup", "cli", "main"]
_COMMAND_MODULES = (links, planning, sandbox, validate, workspace)


def main() -> None:
    """Entry point of the ``reconciler`` command."""
    cli(prog_name="reconciler")
