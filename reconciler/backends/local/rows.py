"""The local store's rows as values: ``Channel`` and ``Link`` for the engine, and ids from their
string form. Columns are selected by name; no value depends on the order of a table's columns.

A store older than versions (``schema.VERSIONED``) is read as it is until its first write
migrates it: its select lists give every channel and link version 1, the version the
migration gives them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
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
    "version": "version",
}
#: The columns of ``channels`` a ``Channel`` is made of (``channel_of``), by name.
CHANNEL_FIELDS = ("id", "account", "display_name", "status", "version")


def select_list(
    fields: Iterable[str], *, versioned: bool, sql: Mapping[str, str] | None = None
) -> str:
    """The ``SELECT`` list of ``fields`` (each its column, or its SQL in ``sql``); a
    ``version`` is the constant 1 in a store that isn't ``versioned`` yet."""
    sql = sql or {}
    return ", ".join(
        "1" if name == "version" and not versioned else sql.get(name, name) for name in fields
    )


def channel_columns(*, versioned: bool) -> str:
    """The ``SELECT`` list of a channel (``CHANNEL_FIELDS``)."""
    return select_list(CHANNEL_FIELDS, versioned=versioned)


def links_of_channel(*, versioned: bool) -> str:
    """A channel's links as ``Link`` fields, in creation order. ``Link._make`` over its rows:
    the NamedTuple fast path of the read of 100k links (docs/benchmarks.md)."""
    columns = select_list(Link._fields, versioned=versioned, sql=_LINK_SQL)
    return f"SELECT {columns} FROM links WHERE channel_id = ? ORDER BY id"


def parse_id(ident: str) -> int:
    """A store id from its string form; an id this store can't have is a ``BackendError``."""
    try:
        return int(ident)
    except (TypeError, ValueError):
        raise BackendError(f"{ident!r} is not an id of a local workspace") from None


def channel_of(db: sqlite3.Connection, row: tuple[Any, ...], *, versioned: bool) -> Channel:
    """The channel of a ``channels`` row selected as ``channel_columns``, its links read
    from ``db``."""
    column = dict(zip(CHANNEL_FIELDS, row, strict=True))
    query = links_of_channel(versioned=versioned)
    links = tuple(map(Link._make, db.execute(query, (column["id"],))))
    return Channel(
        id=str(column["id"]),
        account=str(column["account"]),
        display_name=str(column["display_name"]),
        status=ChannelStatus(column["status"]),
        links=links,
        version=int(column["version"]),
    )
