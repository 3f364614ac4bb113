"""The command line: parse options, call the library, render, choose the exit code.

Nothing here decides anything about a plan; every error the library raises is a
``ReconcilerError`` whose message is printed as is, with exit code 1. The commands live in
the submodules, by theme; importing this package registers them all on ``cli``.

Each command imports the library modules it needs when it runs, not at the top of its
module: every run imports every command module, and ``reconciler status`` or ``--help``
should not pay for PyYAML and the config reader (a third of the import time), the renderers,
segno, httpx or the sandbox's server stack. That is the one place the package defers
imports of its own modules; elsewhere a deferred import names the library it defers.
"""

from __future__ import annotations

import gc

from reconciler.cli import ci, links, planning, sandbox, validate, workspace
from reconciler.cli.group import ReconcilerGroup, cli

__all__ = ["ReconcilerGroup", "cli", "main"]
_COMMAND_MODULES = (ci, links, planning, sandbox, validate, workspace)


def main() -> None:
    """Entry point of the ``reconciler`` command."""
    # A plan builds hundreds of thousands of small objects with no cycles among them, and the
    # cyclic collector would walk them again and again: at 100,000 links it cost ~0.3 s of
    # ~2.6 s. Collect far less often instead of never, so a long sandbox serve stays bounded.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        cli(prog_name="reconciler")
    finally:
        # Whatever is still alive goes with the process: freezing it spares the interpreter's
        # last collection a walk over every object the command made or imported (~60 ms of a
        # plan over http, measured; nothing of ours waits on a collection to be finalised).
        gc.freeze()
