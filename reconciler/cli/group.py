"""The ``reconciler`` group: global options, and every error turned into a message and exit 1."""

from __future__ import annotations

from typing import Any

import click

from reconciler import __version__
from reconciler.errors import ReconcilerError


class ReconcilerGroup(click.Group):
    """Turns every error into a message and exit 1; ``--debug`` lets the traceback through."""

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
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (for bug reports).")
def cli(debug: bool) -> None:
    """Config-as-code for SleekFlow TikTok Business Messaging channels and message links."""
