"""``reconciler validate``."""

from __future__ import annotations

import sys

import click

from reconciler.cli.group import cli, debug_enabled
from reconciler.cli.options import format_option, paths_argument
from reconciler.errors import ConfigError, Problem
from reconciler.render.problems import count_errors, render_github, render_json, render_text


@cli.command()
@paths_argument(required=True)
@format_option(
    ["text", "json", "github"],
    help="text: FILE:LINE:COL lines; json: a list of problems; github: GitHub workflow "
    "commands (::error file=F,line=L,col=C,...), shown on a pull request at each line.",
)
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], fmt: str) -> None:
    """Check the config of PATHs against the schema and the rules of the config format.

    Each PATH is a config file or a directory of them (its *.yaml and *.yml files,
    recursively, hidden entries skipped); together they are one workspace config, so a
    channel declared in two files is an error. Every problem of every file is reported.
    Exits 0 when all are valid (warnings allowed), 1 when any has errors or can't be read.
    """
    # Deferred: PyYAML and the config package are a third of the CLI's import time.
    from reconciler import config

    checked = config.check_paths(paths)
    unread = next((c for c in checked if c.sha256 is None), None)
    if unread is not None and debug_enabled(ctx):
        raise ConfigError(unread.problems)  # with its traceback: --debug asks for it
    all_problems: list[Problem] = [p for c in checked for p in c.problems]
    if fmt == "text":
        for c in checked:
            click.echo(render_text(c.path, c.problems), err=count_errors(c.problems) > 0, nl=False)
    elif fmt == "json":
        click.echo(render_json(all_problems), nl=False)
    else:
        click.echo(render_github(all_problems), nl=False)
    sys.exit(1 if count_errors(all_problems) else 0)
