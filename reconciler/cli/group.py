"""The ``reconciler`` group: global options, and every error turned into a message and exit 1."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError
from reconciler.model import visible_lines


class ReconcilerGroup(click.Group):
    """Turns every error into a message and exit 1; ``--debug`` lets the traceback through.

    Usage errors too: click exits 2 for them, but 2 is what ``plan --detailed-exitcode``
    says for "there are changes", so a mistyped option in CI must not look like drift.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; standalone, exit with the command's code, or 1 with a
        message for a usage error or an abort (never click's 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:  # usage errors, bad parameters, bad files
            exc.show()
            sys.exit(1)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse ``args`` with ``--debug`` taken wherever it stands (up to a ``--``), not only
        before the command: ``reconciler plan x.yaml --debug`` is how a bug report gets
        written."""
        end = args.index("--") if "--" in args else len(args)
        if "--debug" in args[1:end]:
            args = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command: a ``ReconcilerError`` becomes its message and exit 1, Ctrl-C
        exit 130, any other exception an "internal error" line and exit 1; with ``--debug``
        each is raised instead."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ReconcilerError as exc:
            if debug_enabled(ctx):
                raise
            # Messages quote data (a server's ids, a file's titles): never raw to a terminal.
            click.echo(visible_lines(str(exc)), err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if debug_enabled(ctx):
                raise
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if debug_enabled(ctx):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {visible_lines(str(exc))}\n"
                "This is a bug in reconciler; run again with --debug for the traceback.",
                err=True,
            )
            ctx.exit(1)


def debug_enabled(ctx: click.Context) -> bool:
    """Whether ``--debug`` (or RECONCILER_DEBUG) is set for the command line of ``ctx``."""
    root = ctx.find_root()
    return bool(root.params.get("debug"))


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "--debug",
    is_flag=True,
    envvar="RECONCILER_DEBUG",
    help="Show tracebacks for errors (for bug reports); anywhere on the line "
    "[env: RECONCILER_DEBUG].",
)
def cli(debug: bool) -> None:
    """Config-as-code for SleekFlow TikTok Business Messaging channels and message links."""
