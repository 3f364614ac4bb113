"""``reconciler links``, ``reconciler qr`` and ``reconciler history``: the links where
marketers use them (copy every URL, print QR codes, a page of them all, know which URL
replaces which)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
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
    paths_argument,
    plan_key,
    refuse_overwriting,
)
from reconciler.words import plural

if TYPE_CHECKING:
    from reconciler import qr as qrcodes
    from reconciler.backends.base import Backend
    from reconciler.links import LinkRow, UrlChangeRow
    from reconciler.model import WorkspaceState
    from reconciler.page import Window

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
    paths: tuple[str, ...],
    backend_opts: BackendOptions,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
) -> list[LinkRow]:
    """The link rows of the workspace (or of the channels the config of PATHs declares),
    narrowed to ``channels`` and ``titles``; notes about the selection go to stderr."""
    return _selected(paths, backend_opts, channels, titles)[0]


def _selected(
    paths: tuple[str, ...],
    backend_opts: BackendOptions,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
) -> tuple[list[LinkRow], Backend, WorkspaceState]:
    """``_select``'s rows, with the backend they were read from and the state read (one
    read: a page's rows and its URL changes come from the same snapshot)."""
    from reconciler import links

    loaded = load_config(paths) if paths else None
    file, desired = (loaded.name, loaded.desired) if loaded is not None else (None, None)
    backend = open_workspace(backend_opts)
    state = backend.read()
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
    rows = links.narrow(
        selection.rows, known_channels=known, channels=channels, titles=titles, scope=scope
    )
    return list(rows), backend, state


@contextmanager
def _option(name: str) -> Iterator[None]:
    """An ``InvalidDate`` of the value of option ``name`` as a bad parameter naming it."""
    from reconciler.errors import InvalidDate

    try:
        yield
    except InvalidDate as exc:
        raise click.BadParameter(str(exc), param_hint=f"'{name}'") from None


def _emit(content: str, fmt: str, out: str | None) -> None:
    """CSV and JSON go out as data (``echo_data``: exact UTF-8 bytes to a file or a pipe,
    escaped on a terminal); text through click, for the terminal."""
    if out is not None:
        from reconciler.cli.options import write_file
        from reconciler.model import visible

        write_file(out, content)
        click.echo(f"Wrote {visible(out)}", err=True)
    elif fmt == "text":
        click.echo(content, nl=False)
    else:
        echo_data(content)


@cli.command()
@paths_argument(required=False)
@backend_options
@format_option(
    ["text", "csv", "json", "html"],
    help="How to print the links (csv opens in a spreadsheet; json is for tools; html is one "
    "page with every link, its QR code and a copy button, for the people who place them).",
)
@_bom_option
@click.option("--channel", "channels", multiple=True, metavar="ACCOUNT", help=_CHANNEL_HELP)
@click.option("--title", "titles", multiple=True, metavar="TITLE", help=_TITLE_HELP)
@click.option(
    "--changed-since",
    "changed_since",
    metavar="PLANFILE|DATE",
    help="List the links whose URL changed instead: those PLANFILE regenerates, or those "
    "regenerated since DATE (2026-03-01, midnight UTC, or an ISO 8601 time): old URL, new "
    "URL, and whether the workspace has the new one. With --format html: which links the "
    "page marks as changed (default: the last 30 days).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
def links(
    paths: tuple[str, ...],
    backend_opts: BackendOptions,
    fmt: str,
    bom: bool,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
    changed_since: str | None,
    out: str | None,
) -> None:
    """Every link of the workspace (or of the channels PATHs declare) with its URL.

    The "Copy message link" of SleekFlow's UI, for all links at once: channel, title, ref,
    message and URL. In CSV, a cell a spreadsheet would run as a formula (starting with =, +,
    -, @) gets a leading ' so it shows as text.

    Which posters to reprint since March 1st: links --changed-since 2026-03-01.
    """
    from reconciler.render.links import render_links, render_url_changes

    if bom and fmt != "csv":
        raise click.UsageError("--bom is for --format csv")
    refuse_overwriting(out, paths)
    if fmt == "html":
        _emit(_page(paths, backend_opts, channels, titles, changed_since), fmt, out)
        return
    if changed_since is not None:
        if paths:
            raise click.UsageError("give PATHs or --changed-since, not both")
        changes, window = _url_changes(changed_since, backend_opts, channels, titles)
        rendered = render_url_changes(
            changes, fmt, source=window.plan, since=window.since, bom=bom
        )
        _emit(rendered, fmt, out)
        return
    rows = _select(paths, backend_opts, channels, titles)
    _emit(render_links(rows, fmt, bom=bom), fmt, out)


def _url_changes(
    changed_since: str,
    backend_opts: BackendOptions,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
) -> tuple[list[UrlChangeRow], Window]:
    """The links whose URL changed since the date or time ``changed_since`` names, or that
    the saved plan it names regenerates, with their status in the workspace now."""
    from reconciler import links, page

    with _option("--changed-since"):
        window = page.window(changed_since, datetime.now(UTC))
    backend = open_workspace(backend_opts)
    rows = page.url_changes_in(backend, window, backend.read(), plan_key=plan_key())
    scope = (
        f"the links {window.plan} regenerates"
        if window.plan is not None
        else "the links whose URL changed since then"
    )
    known = {r.channel for r in rows}
    kept = links.narrow(rows, known_channels=known, channels=channels, titles=titles, scope=scope)
    return list(kept), window


def _page(
    paths: tuple[str, ...],
    backend_opts: BackendOptions,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
    changed_since: str | None,
) -> str:
    """The page of links (``--format html``): the selected links, those whose URL changed in
    the window ``page.window`` makes of ``changed_since`` marked."""
    from reconciler import page
    from reconciler.render.html import render_page

    with _option("--changed-since"):
        window = page.window(changed_since, datetime.now(UTC))
    rows, backend, state = _selected(paths, backend_opts, channels, titles)
    return render_page(page.of_workspace(backend, rows, window, state=state, plan_key=plan_key()))


@cli.command()
@paths_argument(required=False)
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
@click.option(
    "--prune",
    is_flag=True,
    help="Remove the QR codes in DIR of links that no longer exist (else they are listed).",
)
def qr(
    paths: tuple[str, ...],
    backend_opts: BackendOptions,
    out_dir: str,
    fmt: str,
    channels: tuple[str, ...],
    titles: tuple[str, ...],
    prune: bool,
) -> None:
    """Write a QR code per link, for posters, flyers and events.

    Files are named CHANNEL--TITLE.svg (or .png), with the link's URL and title in the file's
    metadata; error correction at least Q (25% of a code can be damaged; segno raises it when
    the URL leaves room) unless the URL is too long for Q.

    A file is rewritten only when its code changes, and each one written is listed: those are
    the codes to print again. Codes in DIR of links that no longer exist are listed as stale
    (--prune removes them).
    """
    from reconciler import qr as qrcodes
    from reconciler.model import visible

    rows = _select(paths, backend_opts, channels, titles)
    files = qrcodes.build(rows, fmt, reuse=out_dir)
    scope = qrcodes.stale_scope(rows, channels=channels, titles=titles, whole=not paths)
    done = qrcodes.write(files, out_dir, scope=scope, prune=prune)
    if not rows and not done.stale:
        click.echo("No links: no QR code written.")
        return
    written = set(done.written)
    for item in files:
        row, path = item.row, Path(out_dir) / item.filename
        if path in written:
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
    for path in done.stale:
        click.echo(
            f"removed {visible(str(path))}  (no link has this code now)"
            if done.pruned
            else f"stale {visible(str(path))}  (no link has this code now; --prune removes it)"
        )
    click.echo(_qr_summary(done, out_dir))


def _qr_summary(done: qrcodes.Written, out_dir: str) -> str:
    """The last line of ``qr``: how many codes were written, left alone, stale or removed."""
    from reconciler.model import visible

    head = f"Wrote {plural(len(done.written), 'QR code')} to {visible(out_dir)}"
    parts = []
    if done.unchanged:
        parts.append(f"{len(done.unchanged)} unchanged")
    if done.stale:
        what = "removed" if done.pruned else "stale (--prune removes them)"
        parts.append(f"{len(done.stale)} {what}")
    return head + ("; " + "; ".join(parts) if parts else "") + "."


@cli.command()
@click.argument("account", required=False)
@click.argument("title", required=False)
@backend_options
@format_option(["text", "csv", "json"], help="How to print the history.")
@_bom_option
@click.option(
    "--since",
    metavar="DATE",
    help="Only what happened from DATE on: 2026-03-01 (midnight UTC) or an ISO 8601 time.",
)
def history(
    account: str | None,
    title: str | None,
    backend_opts: BackendOptions,
    fmt: str,
    bom: bool,
    since: str | None,
) -> None:
    """The URLs the links of every channel, of ACCOUNT, or of its link TITLE have had: old
    URL, new URL, when.

    The workspace keeps every create, regeneration, rename and removal (SleekFlow's API
    serves it too), also of links and channels removed since.
    """
    from reconciler import history as url_history
    from reconciler.render.links import render_history

    if bom and fmt != "csv":
        raise click.UsageError("--bom is for --format csv")
    when = None
    if since is not None:
        with _option("--since"):
            when = url_history.since(since)
    backend = open_workspace(backend_opts)
    rows = url_history.history(backend, account, title, since=when)
    rendered = render_history(rows, fmt, account=account, title=title, since=when, bom=bom)
    _emit(rendered, fmt, None)
