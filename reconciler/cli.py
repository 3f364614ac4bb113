"""The command line: parse options, call the library, render, choose the exit code.

Nothing here decides anything about a plan; every error the library raises is a
``ReconcilerError`` whose message is printed as is, with exit code 1.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from reconciler import __version__
from reconciler.errors import ConfigError, ReconcilerError, Severity


class ReconcilerGroup(click.Group):
    """Turns every error into a message and exit 1; ``--debug`` lets the traceback through."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ReconcilerError as exc:
            if _debug(ctx):
                raise
            click.echo(str(exc), err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if _debug(ctx):
                raise
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if _debug(ctx):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in reconciler; run again with --debug for the traceback.",
                err=True,
            )
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug"))


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (for bug reports).")
def cli(debug: bool) -> None:
    """Config-as-code for SleekFlow TikTok Business Messaging channels and message links."""


@cli.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: FILE:LINE:COL lines; json: a list of problems.",
)
def validate(file: str, fmt: str) -> None:
    """Check FILE against the schema and the rules of the config format."""
    from reconciler import config

    try:
        _, problems = config.check(config.read_text(file), file)
    except ConfigError as exc:
        problems = exc.problems
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(str(problem), err=bool(errors))
        if errors:
            n = len(errors)
            click.echo(f"{n} error{'s' if n != 1 else ''} found", err=True)
        else:
            warnings = len(problems)
            suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            click.echo(f"{file}: valid{suffix}")
    sys.exit(1 if errors else 0)


def main() -> None:
    """Entry point of the ``reconciler`` command."""
    cli(prog_name="reconciler")
