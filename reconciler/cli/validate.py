"""``reconciler validate``."""

from __future__ import annotations

import sys

import click

from reconciler.cli.group import cli, debug_enabled
from reconciler.cli.options import format_option
from reconciler.errors import ConfigError, Problem
from reconciler.render.problems import count_errors, render_github, render_json, render_text


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str), metavar="FILE...")
@format_option(
    ["text", "json", "github"],
    help="text: FILE:LINE:COL lines; json: a list of problems; github: GitHub workflow "
    "commands (::error file=F,line=L,col=C,...), shown on a pull request at each line.",
)
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], fmt: str) -> None:
    """Check each FILE against the schema and the rules of the config format.

    Every problem of every file is reported. Exits 0 when all are valid (warnings allowed),
    1 when any has errors or can't be read.
    """
    # Deferred: PyYAML and the config package are a third of the CLI's import time.
    from reconciler import config

    all_problems: list[Problem] = []
    for file in files:
        try:
            _, problems = config.check_file(file)
        except ConfigError as exc:  # the file can't be read: its problems are reported too
            if debug_enabled(ctx):
                raise
            problems = exc.problems
        all_problems.extend(problems)
        if fmt == "text":
            click.echo(render_text(file, problems), err=count_errors(problems) > 0, nl=False)
    if fmt == "json":
        click.echo(render_json(all_problems), nl=False)
    elif fmt == "github":
        click.echo(render_github(all_problems), nl=False)
    sys.exit(1 if count_errors(all_problems) else 0)
