"""What a write to the local store checks inside its own transaction, before it writes: the
channel or link exists, it is at the version the write names (conditional writes), and no
other link of the channel has the title. Each check raises; ``where`` names the workspace in
the message (``LocalBackend.description``).

Inside the write's ``BEGIN IMMEDIATE`` transaction, no other write can come between a check
and the write it guards: two applies racing from one state can't both pass.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.backends.local.rows import parse_id
from reconciler.errors import BackendError, TitleTaken, WorkspaceChanged
from reconciler.model import fold, visible


def account_of(db: sqlite3.Connection, channel_id: str, where: str) -> str:
    """The account of a channel, as the workspace spells it (its URLs use it)."""
    row = db.execute(
        "SELECT account FROM channels WHERE id = ?", (parse_id(channel_id),)
    ).fetchone()
    must_exist(row, "channel", channel_id, where)
    return str(row[0])


def channel_at(
    db: sqlite3.Connection, channel_id: str, version: int, column: str, where: str
) -> Any:
    """``column`` of a channel that is at ``version``; a ``BackendError`` when there is no
    such channel, a ``WorkspaceChanged`` when it is at another version."""
    row = db.execute(
        f"SELECT account, version, {column} FROM channels WHERE id = ?", (parse_id(channel_id),)
    ).fetchone()
    must_exist(row, "channel", channel_id, where)
    refuse_moved(f"channel {visible(row[0])} (id {channel_id})", row[1], version, where)
    return row[2]


def link_at(
    db: sqlite3.Connection,
    channel_id: str,
    link_id: str,
    version: int,
    columns: tuple[str, ...],
    where: str,
) -> tuple[Any, ...]:
    """``columns`` of a link of the channel that is at ``version``; a ``BackendError`` when
    there is no such link, a ``WorkspaceChanged`` when it is at another version."""
    row = db.execute(
        f"SELECT title, version, {', '.join(columns)} FROM links WHERE id = ? AND channel_id = ?",
        (parse_id(link_id), parse_id(channel_id)),
    ).fetchone()
    must_exist(row, "link", link_id, where)
    refuse_moved(f"link {visible(row[0])!r} (id {link_id})", row[1], version, where)
    return tuple(row[2:])


def refuse_moved(what: str, current: int, version: int, where: str) -> None:
    """``WorkspaceChanged`` unless the resource ``what`` is at the ``version`` a write names."""
    if current != version:
        raise WorkspaceChanged(
            f"{what} changed in {where} since it was planned "
            f"(version {current}, planned against {version})",
            current=current,
            given=version,
        )


def refuse_taken(db: sqlite3.Connection, channel_id: str, account: str, title: str) -> None:
    """Raise ``TitleTaken`` when a link of the channel already has ``title`` (ignoring
    case). A plan never creates, nor renames a link to, a title its channel has; when the
    workspace has one anyway, it changed since the plan (two applies racing), and going on
    would make two links with one title."""
    row = db.execute(
        "SELECT title FROM links WHERE channel_id = ? AND title_key = ? LIMIT 1",
        (parse_id(channel_id), fold(title)),
    ).fetchone()
    if row is not None:
        raise TitleTaken(
            f"channel {visible(account)} already has a link titled {visible(row[0])!r}: "
            "the workspace changed since the plan (another apply, or an edit in SleekFlow); "
            "nothing more was changed for this link: plan again"
        )


def must_exist(row: object, kind: str, ident: str, where: str) -> None:
    """A ``BackendError`` when the ``kind`` (channel, link) ``ident`` was not found (``row``
    is None)."""
    if row is None:
        raise BackendError(f"{kind} {ident} does not exist in {where} (changed since the plan?)")
