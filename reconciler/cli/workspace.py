"""Commands that show the workspace: ``export``, ``status``."""

from __future__ import annotations

import click

from reconciler.cli.group import cli
from reconciler.cli.options import (
    BackendOptions,
    backend_options,
    echo_data,
    open_workspace,
    use_color,
    write_file,
)


@cli.command()
@backend_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
def export(backend_opts: BackendOptions, out: str | None) -> None:
    """Print the workspace as a config file; 'plan' of it shows no change."""
    # Deferred: PyYAML and the config package are a third of the CLI's import time.
    from reconciler.config.write import export_config, export_warnings

    backend = open_workspace(backend_opts)
    state = backend.read()
    content = export_config(state)
    for warning in export_warnings(state):
        click.echo(warning, err=True)
    if out is None:
        echo_data(content)
    else:
        write_file(out, content)
        click.echo(f"Wrote {out}", err=True)


@cli.command()
@backend_options
def status(backend_opts: BackendOptions) -> None:
    """Each channel, its connection status and link count, with the fix for disconnected ones."""
    from reconciler.render import text

    backend = open_workspace(backend_opts)
    rendered = text.render_status(backend.read(), workspace=backend.workspace(), color=use_color())
    click.echo(rendered, nl=False, color=use_color())
