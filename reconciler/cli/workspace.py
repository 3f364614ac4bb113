"""Commands that show the workspace: ``export``, ``status``."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.cli.group import cli
from reconciler.cli.options import (
    BackendOptions,
    backend_options,
    echo_data,
    make_directory,
    open_workspace,
    use_color,
    write_file,
)
from reconciler.model import visible


@cli.command()
@backend_options
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="ACCOUNT",
    help="Only this channel (TikTok account; repeat for several).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--split",
    type=click.Path(file_okay=False, path_type=str),
    metavar="DIR",
    help="Write one file per channel in DIR, named after its account (ACCOUNT.yaml): "
    "a team's files, to plan together as 'reconciler plan DIR'.",
)
def export(
    backend_opts: BackendOptions, channels: tuple[str, ...], out: str | None, split: str | None
) -> None:
    """Print the workspace (or its --channel ones) as a config; 'plan' of it shows no change."""
    # Deferred: PyYAML and the config package are a third of the CLI's import time.
    from reconciler.config.write import export_config, export_split, export_warnings

    if out is not None and split is not None:
        raise click.UsageError("give --out FILE or --split DIR, not both")
    backend = open_workspace(backend_opts)
    state = backend.read()
    for warning in export_warnings(state, channels):
        click.echo(warning, err=True)
    if split is not None:
        files = export_split(state, channels)
        make_directory(split)
        for name, content in files.items():
            path = str(Path(split) / name)
            write_file(path, content)
            click.echo(f"Wrote {visible(path)}", err=True)
        return
    content = export_config(state, channels)
    if out is None:
        echo_data(content)
    else:
        write_file(out, content)
        click.echo(f"Wrote {visible(out)}", err=True)


@cli.command()
@backend_options
def status(backend_opts: BackendOptions) -> None:
    """Each channel, its connection status and link count, with the fix for disconnected ones."""
    from reconciler.render import text

    backend = open_workspace(backend_opts)
    rendered = text.render_status(backend.read(), workspace=backend.workspace(), color=use_color())
    click.echo(rendered, nl=False, color=use_color())
