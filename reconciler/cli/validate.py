"""``reconciler validate``."""

from __future__ import annotations

import json
import sys

import click

from reconciler.cli.group import cli, debug_enabled
from reconciler.errors import ConfigError, Severity


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
@click.pass_context
def validate(ctx: click.Context, file: str, fmt: str) -> None:
    """Check FILE against the schema and the rules of the config format.

    Exits 0 when FILE is valid (warnings allowed), 1 when it has errors or can't be read.
    """
    from reconciler import config

    try:
        text = config.read_text(file)
    except ConfigError as exc:
        if debug_enabled(ctx):
            raise
        problems = exc.problems
    else:
        _, problems = config.check(text, file)
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
