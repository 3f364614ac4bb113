"""The ``reconciler`` group: global options, and every error turned into a message and exit 1."""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError


class ReconcilerGroup(click.Group):
    """Turns every error into a message and exit 1; ``--debug`` lets the traceback through.

    Usage errors too: click exits 2 for them, but 2 is what ``plan --detailed-exitcode``
    says for "there are changes", so a mistyped option in CI must not look like drift.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:  # usage errors, bad parameters, bad files
            exc.show()
            sys.exit(1)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # ``reconciler plan x.yaml --debug`` is how a bug report gets written: take ``--debug``
        # wherever it stands (up to a ``--``), not only before the command.
        end = args.index("--") if "--" in args else len(args)
        if "--debug" in args[1:end]:
            args = ["--debug", *(a for a in args[:end] if a != "--debug"), *args[end:]]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ReconcilerError as exc:
            if debug_enabled(ctx):
                raise
            click.echo(str(exc), err=True)
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
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in reconciler; run again with --debug for the traceback.",
                err=True,
            )
            ctx.exit(1)


def debug_enabled(ctx: click.Context) -> bool:
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
