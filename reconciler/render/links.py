"""Links, URL changes and link history as text, CSV and JSON. Rows in, a string out.

CSV is for spreadsheets: RFC 4180 (CRLF, quotes doubled), UTF-8, optionally with a byte order
mark (Excel reads a BOM-less file as the local code page and garbles every accent and emoji).
A cell a spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return, also after leading spaces) gets a leading ``'``, OWASP's advice
against CSV injection: a message like ``=HYPERLINK(...)`` is shown as text, never run. The URL
column is never touched (a URL starts with ``https://``), so copying URLs stays exact; tools
that want the raw values read ``--format json``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from reconciler.events import UrlEvent
from reconciler.links import LinkRow, UrlChangeRow
from reconciler.model import ChannelStatus, visible
from reconciler.render import escape_surrogates
from reconciler.render.json import dumps
from reconciler.render.text import q
from reconciler.words import plural

BOM = "\ufeff"
LINK_COLUMNS = ("channel", "title", "ref", "message", "url")
URL_CHANGE_COLUMNS = ("channel", "title", "where", "status", "old_url", "new_url", "current_url")
HISTORY_COLUMNS = ("at", "channel", "title", "event", "old_url", "new_url")
#: First characters that make a spreadsheet cell a formula (or, for tab and CR, that some
#: spreadsheets strip before looking for one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """``value`` safe for a spreadsheet cell: prefixed with ``'`` when it would start a
    formula (also after leading spaces, which some spreadsheets skip)."""
    if value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], *, bom: bool = False) -> str:
    """``rows`` as CSV with a header of ``columns`` (None is an empty cell); every cell
    neutralised (see ``neutralise``), and a lone surrogate (a JSON API can send one, UTF-8
    can't hold it) written as its escape, ``\\ud800``."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return (BOM if bom else "") + buffer.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return neutralise(escape_surrogates(text))


# --- links ----------------------------------------------------------------------------------


def render_links(rows: Sequence[LinkRow], fmt: str, *, bom: bool = False) -> str:
    """Every link with channel, title, ref, message and URL, as ``text``, ``csv`` or ``json``."""
    if fmt == "csv":
        return to_csv((r.to_dict() for r in rows), LINK_COLUMNS, bom=bom)
    if fmt == "json":
        return dumps({"links": [r.to_dict() for r in rows]})
    return links_text(rows)


def links_text(rows: Sequence[LinkRow]) -> str:
    """For a terminal: a heading per channel, each link's URL alone on its line (so a
    triple-click copies exactly the URL)."""
    if not rows:
        return "No links.\n"
    out: list[str] = []
    channel: str | None = None
    for row in rows:
        if row.channel != channel:
            if channel is not None:
                out.append("")
            channel = row.channel
            head = f"{visible(row.channel)}  {q(row.display_name)}" if row.display_name else ""
            if row.status is ChannelStatus.DISCONNECTED:
                head += "  disconnected: its links may not reach SleekFlow until it is reconnected"
            out.append(head or visible(row.channel))
        ref = f"  ref: {visible(row.ref)}" if row.ref is not None else ""
        out.append(f"  {q(row.title)}{ref}")
        out.append(f"    message: {q(row.message)}")
        out.append(f"    {visible(row.url)}")
    channels = len({r.channel for r in rows})
    out.append("")
    out.append(f"{plural(len(rows), 'link')} in {plural(channels, 'channel')}.")
    return "\n".join(out) + "\n"


# --- URL changes ----------------------------------------------------------------------------


def render_url_changes(
    rows: Sequence[UrlChangeRow],
    fmt: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    bom: bool = False,
) -> str:
    """The links whose URL changed: old URL -> new URL, where the old one is likely shared,
    and whether the workspace has the new one. ``source`` names the plan file that
    regenerates them, or ``since`` the time from which the history was read."""
    if fmt == "csv":
        return to_csv((r.to_dict() for r in rows), URL_CHANGE_COLUMNS, bom=bom)
    origin: dict[str, Any] = {"since": since.isoformat()} if since else {"plan": source}
    if fmt == "json":
        return dumps(origin | {"url_changes": [r.to_dict() for r in rows]})
    n = len(rows)
    if since is not None:
        when = f"since {since.isoformat()}"
        if not rows:
            return f"No link got a new URL {when}: nothing to replace.\n"
        head = f"{plural(n, 'link')} got a new URL {when}."
    else:
        if not rows:
            return f"{visible(str(source))} regenerates no link: no URL to replace.\n"
        head = f"{visible(str(source))} regenerates {plural(n, 'link')}."
    out = [
        f"{head} Replace each old URL wherever it is shared (the old one keeps working with "
        "the OLD message):"
    ]
    for row in rows:
        out.append("")
        out.append(f"  {visible(row.channel)} / {visible(row.title)}  (likely in: {row.where})")
        out.append(f"    old: {visible(row.old_url)}")
        out.append(f"    new: {visible(row.new_url)}")
        out.append(f"    status: {_status_line(row)}")
    return "\n".join(out) + "\n"


def _status_line(row: UrlChangeRow) -> str:
    if row.status == "applied":
        return "applied: the workspace has the new URL"
    if row.status == "not applied":
        return "not applied yet: the workspace still has the old URL (apply the plan first)"
    if row.current_url is None:
        return "changed since: the link is no longer in the workspace"
    return f"changed since: the link's URL is now {visible(row.current_url)}"


# --- history --------------------------------------------------------------------------------


def render_history(
    rows: Sequence[UrlEvent],
    fmt: str,
    *,
    account: str | None = None,
    title: str | None = None,
    since: datetime | None = None,
    bom: bool = False,
) -> str:
    """The URLs the links of every channel, of ``account`` or of its link ``title`` have
    had (from ``since`` on), oldest first: when, event, old URL, new URL."""
    if fmt == "csv":
        return to_csv((r.to_dict() for r in rows), HISTORY_COLUMNS, bom=bom)
    if fmt == "json":
        return dumps(
            {
                "channel": account,
                "since": since.isoformat() if since else None,
                "history": [r.to_dict() for r in rows],
            }
        )
    whose = "every channel" if account is None else visible(account)
    whose += f" / {q(title)}" if title is not None else ""
    whose += f" since {since.isoformat()}" if since is not None else ""
    if not rows:
        return f"No history for {whose}.\n" if account else f"No URL history{whose[13:]}.\n"
    out = [f"URL history of {whose}, oldest first:"]
    for row in rows:
        event = str(row.event)
        name = q(row.title) if account is not None else f"{visible(row.channel)} / {q(row.title)}"
        out.append(f"{visible(row.at)}  {event:<11}  {name}")
        old, new = row.old_url, row.new_url
        if event == "regenerated":
            out.append(f"    old: {visible(str(old))}")
            out.append(f"    new: {visible(str(new))}")
        elif new:
            out.append(f"    url: {visible(new)}")
        elif old:
            out.append(f"    url: {visible(old)}  (still works, no longer tracked)")
    return "\n".join(out) + "\n"
