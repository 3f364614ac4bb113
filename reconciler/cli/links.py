"""``reconciler links``, ``reconciler qr`` and ``reconciler history``: the links where
marketers use them (copy every URL, print QR codes, know which URL replaces which)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from reconciler.cli.group import cli
from reconciler.cli.options import (
    BackendOptions,
    backend_options,
    echo_data,
    format_option,
    load_config,
    open_workspace,
)
from reconciler.errors import ReconcilerError
from reconciler.words import plural

if TYPE_CHECKING:
    from reconciler.links import LinkRow, UrlChangeRow

_CHANNEL_HELP = "Only this channel (TikTok account; repeat for several)."
_TITLE_HELP = "Only links with this title, ignoring case (repeat for several)."
_bom_option = click.option(
    "--bom",
    "--excel",
    "bom",
    is_flag=True,
    help="Start the CSV with a UTF-8 byte order mark, so Excel shows accents and emoji.",
)


def _select(
    file: str | None,
    backend_opts: BackendOptions,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
) -> list[LinkRow]:
    """The link rows of the workspace (or of FILE's channels), narrowed to ``channels`` and
    ``titles``; notes about the selection go to stderr."""
    from reconciler import links

    desired = load_config(file)[0] if file is not None else None
    state = open_workspace(backend_opts).read()
    selection = links.select(state, desired)
    for note in selection.notes:
        click.echo(f"note: {note}", err=True)
    if desired is not None:
        pending = links.pending_changes(desired, state)
        if pending:
            click.echo(
                f"note: {file} is not fully applied ({plural(pending, 'link change')} "
                f"pending: see 'reconciler plan {file}'); "
                "these are the URLs the workspace has now",
                err=True,
            )
    scope = f"the channels {file} declares" if file is not None else "the workspace"
    known = [c.account for c in selection.channels]
    return list(
        links.narrow(
            selection.rows, known_channels=known, channels=channels, titles=titles, scope=scope
        )
    )


def _emit(content: str, fmt: str, out: str | None) -> None:
    """CSV and JSON go out as data (``echo_data``: exact UTF-8 bytes to a file or a pipe,
    escaped on a terminal); text through click, for the terminal."""
    if out is not None:
        from reconciler.cli.options import write_file

        write_file(out, content)
        click.echo(f"Wrote {out}", err=True)
    elif fmt == "text":
        click.echo(content, nl=False)
    else:
        echo_data(content)


@cli.command()
@click.argument("file", required=False, type=click.Path(path_type=str))
@backend_options
@format_option(
    ["text", "csv", "json"],
    help="How to print the links (csv opens in a spreadsheet; json is for tools).",
)
@_bom_option
@click.option("--channel", "channels", multiple=True, metavar="ACCOUNT", help=_CHANNEL_HELP)
@click.option("--title", "titles", multiple=True, metavar="TITLE", help=_TITLE_HELP)
@click.option(
    "--changed-since",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="PLANFILE",
    help="List the links PLANFILE regenerates instead: old URL, new URL, and whether the "
    "workspace has the new one.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
def links(
    file: str | None,
    backend_opts: BackendOptions,
    fmt: str,
    bom: bool,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
    plan_file: str | None,
    out: str | None,
) -> None:
    """Every link of the workspace (or of the channels FILE declares) with its URL.

    The "Copy message link" of SleekFlow's UI, for all links at once: channel, title, ref,
    message and URL. In CSV, a cell a spreadsheet would run as a formula (starting with =, +,
    -, @) gets a leading ' so it shows as text.
    """
    from reconciler.render.links import render_links, render_url_changes

    if bom and fmt != "csv":
        raise click.UsageError("--bom is for --format csv")
    if plan_file is not None:
        if file is not None:
            raise click.UsageError("give FILE or --changed-since PLANFILE, not both")
        changes = _url_changes(plan_file, backend_opts, channels, titles)
        _emit(render_url_changes(changes, fmt, source=plan_file, bom=bom), fmt, out)
        return
    rows = _select(file, backend_opts, channels, titles)
    _emit(render_links(rows, fmt, bom=bom), fmt, out)


def _url_changes(
    plan_file: str, backend_opts: BackendOptions, channels: tuple[str, ...], titles: tuple[str, ...]
) -> list[UrlChangeRow]:
    """The regenerations of a saved plan, with their status in the workspace now."""
    from reconciler import links
    from reconciler.plan import saved

    regenerations = links.regenerations(saved.load(plan_file))
    rows = links.url_changes(regenerations, open_workspace(backend_opts).read())
    return list(
        links.narrow(
            rows,
            known_channels={r.channel for r in rows},
            channels=channels,
            titles=titles,
            scope=f"the links {plan_file} regenerates",
        )
    )


@cli.command()
@click.argument("file", required=False, type=click.Path(path_type=str))
@backend_options
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=str),
    metavar="DIR",
    help="The directory to write the QR codes to (created if missing).",
)
@format_option(["svg", "png"], help="SVG (vector: any print size) or PNG (300 dpi, 1 mm a module).")
@click.option("--channel", "channels", multiple=True, metavar="ACCOUNT", help=_CHANNEL_HELP)
@click.option("--title", "titles", multiple=True, metavar="TITLE", help=_TITLE_HELP)
def qr(
    file: str | None,
    backend_opts: BackendOptions,
    out_dir: str,
    fmt: str,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
) -> None:
    """Write a QR code per link, for posters, flyers and events.

    Files are named CHANNEL--TITLE.svg (or .png), with the link's URL and title in the file's
    metadata; error correction at least Q (25% of a code can be damaged; segno raises it when
    the URL leaves room) unless the URL is too long for Q.
    """
    from reconciler import qr as qrcodes
    from reconciler.model import visible

    rows = _select(file, backend_opts, channels, titles)
    if not rows:
        click.echo("No links: no QR code written.")
        return
    files = qrcodes.build(rows, fmt)
    paths = qrcodes.write(files, out_dir)
    for item, path in zip(files, paths, strict=True):
        row = item.row
        click.echo(
            f"{visible(str(path))}  {visible(row.channel)} / {visible(row.title)}  "
            f"(version {item.version}, error correction {item.error})"
        )
        if item.downgraded:
            click.echo(
                f"warning: {visible(row.channel)} / {visible(row.title)}: the URL is too long "
                f"for error correction Q; encoded with {item.error} "
                f"({qrcodes.RECOVERY[item.error]} may be damaged): print it larger and keep it "
                "clean, or shorten the message",
                err=True,
            )
    n = len(files)
    click.echo(f"Wrote {plural(n, 'QR code')} to {visible(out_dir)}.")


@cli.command()
@click.argument("account")
@click.argument("title", required=False)
@backend_options
@format_option(["text", "csv", "json"], help="How to print the history.")
@_bom_option
def history(
    account: str, title: str | None, backend_opts: BackendOptions, fmt: str, bom: bool
) -> None:
    """The URLs the links of ACCOUNT (or the link TITLE) have had: old URL, new URL, when.

    Kept by the local workspace: every create, regeneration, rename and removal.
    """
    from reconciler import links
    from reconciler.backends.local import LocalBackend
    from reconciler.render.links import render_history

    if bom and fmt != "csv":
        raise click.UsageError("--bom is for --format csv")
    if backend_opts.kind != "local":
        raise ReconcilerError(
            "history is kept by the local workspace (--backend local); "
            f"the {backend_opts.kind} backend has none"
        )
    backend = open_workspace(backend_opts)
    assert isinstance(backend, LocalBackend)  # the only kind that keeps one, checked above
    rows = links.history(backend, account, title)
    _emit(render_history(rows, fmt, account=account, title=title, bom=bom), fmt, None)
