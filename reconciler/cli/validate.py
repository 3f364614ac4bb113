"""``reconciler validate``."""

from __future__ import annotations

import json
import sys

import click

from reconciler.cli.group import cli, debug_enabled
from reconciler.cli.options import format_option
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.words import plural


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str), metavar="FILE...")
@format_option(["text", "json"], help="text: FILE:LINE:COL lines; json: a list of problems.")
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], fmt: str) -> None:
    """Check each FILE against the schema and the rules of the config format.

    Every problem of every file is reported. Exits 0 when all are valid (warnings allowed),
    1 when any has errors or can't be read.
    """
    from reconciler import config

    all_problems = []
    failed = False
    for file in files:
        try:
            text = config.read_text(file)
        except ConfigError as exc:
            if debug_enabled(ctx):
                raise
            problems = exc.problems
        else:
            _, problems = config.check(text, file)
        all_problems.extend(problems)
        errors = [p for p in problems if p.severity is Severity.ERROR]
        failed = failed or bool(errors)
        if fmt == "text":
            _report(file, problems, len(errors))
    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in all_problems], indent=2, ensure_ascii=False))
    sys.exit(1 if failed else 0)


def _report(file: str, problems: list[Problem], errors: int) -> None:
    """One file's problems, FILE:LINE:COL each, then its verdict."""
    for problem in problems:
        click.echo(str(problem), err=bool(errors))
    if errors:
        click.echo(f"{plural(errors, 'error')} found", err=True)
    else:
        warnings = len(problems)
        suffix = f" ({plural(warnings, 'warning')})" if warnings else ""
        click.echo(f"{file}: valid{suffix}")
