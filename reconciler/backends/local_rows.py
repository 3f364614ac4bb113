"""The local store's rows as values: ``Channel`` and ``Link`` for the engine, plain dicts for
the sandbox API, ids from their string form."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.errors import BackendError
from reconciler.model import Channel, ChannelStatus, Link

#: A channel's links as ``Link`` fields, in creation order.
LINKS_OF_CHANNEL = (
    "SELECT CAST(id AS TEXT), title, ref, message, url, id FROM links "
    "WHERE channel_id = ? ORDER BY id"
)
#: The columns of a link as ``link_dict`` takes them.
LINK_COLUMNS = "id, channel_id, title, ref, message, url, created_at, updated_at"


def parse_id(ident: str) -> int:
    """A store id from its string form; an id this store can't have is a ``BackendError``."""
    try:
        return int(ident)
    except (TypeError, ValueError):
        raise BackendError(f"{ident!r} is not an id of a local workspace") from None


def channel_of(db: sqlite3.Connection, row: tuple[Any, ...]) -> Channel:
    """The channel of a ``channels`` row (id, account, display_name, status), its links read
    from ``db``."""
    cid, account, name, status = row
    links = tuple(map(Link._make, db.execute(LINKS_OF_CHANNEL, (cid,))))
    return Channel(str(cid), account, name, ChannelStatus(status), links)


def channel_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A ``channels`` row (id, account, display_name, status) as the API shows a channel."""
    cid, account, display_name, status = row
    return {"id": str(cid), "account": account, "display_name": display_name, "status": status}


def link_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A link's ``LINK_COLUMNS`` as the API shows a link."""
    link_id, channel_id, title, ref, message, url, created_at, updated_at = row
    return {
        "id": str(link_id),
        "channel_id": str(channel_id),
        "title": title,
        "ref": ref,
        "message": message,
        "url": url,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def link_from_dict(data: dict[str, Any]) -> Link:
    """The ``Link`` of a link as the API shows it (``link_dict``)."""
    link_id = int(data["id"])
    return Link(str(link_id), data["title"], data["ref"], data["message"], data["url"], seq=link_id)
