"""The local store's rows as values: ``Channel`` and ``Link`` for the engine, and ids from their
string form. Columns are selected by name; no value depends on the order of a table's columns.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.errors import BackendError
from reconciler.model import Channel, ChannelStatus, Link

#: The SQL of each ``Link`` field: the ``SELECT`` below is made from ``Link._fields``, so the
#: NamedTuple's field order and the query's column order are one order by construction.
_LINK_SQL = {
    "id": "CAST(id AS TEXT)",
    "title": "title",
    "ref": "ref",
    "message": "message",
    "url": "url",
    "seq": "id",
}
#: A channel's links as ``Link`` fields, in creation order. ``Link._make`` over its rows: the
#: NamedTuple fast path of the read of 100k links (docs/benchmarks.md).
LINKS_OF_CHANNEL = (
    f"SELECT {', '.join(_LINK_SQL[name] for name in Link._fields)} FROM links "
    "WHERE channel_id = ? ORDER BY id"
)
#: The columns of ``channels`` a ``Channel`` is made of (``channel_of``), by name.
CHANNEL_FIELDS = ("id", "account", "display_name", "status")
CHANNEL_COLUMNS = ", ".join(CHANNEL_FIELDS)


def parse_id(ident: str) -> int:
    """A store id from its string form; an id this store can't have is a ``BackendError``."""
    try:
        return int(ident)
    except (TypeError, ValueError):
        raise BackendError(f"{ident!r} is not an id of a local workspace") from None


def channel_of(db: sqlite3.Connection, row: tuple[Any, ...]) -> Channel:
    """The channel of a ``channels`` row selected as ``CHANNEL_COLUMNS``, its links read
    from ``db``."""
    column = dict(zip(CHANNEL_FIELDS, row, strict=True))
    links = tuple(map(Link._make, db.execute(LINKS_OF_CHANNEL, (column["id"],))))
    return Channel(
        id=str(column["id"]),
        account=str(column["account"]),
        display_name=str(column["display_name"]),
        status=ChannelStatus(column["status"]),
        links=links,
    )
