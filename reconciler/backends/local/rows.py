"""The local store's rows as values: ``Channel`` and ``Link`` for the engine, and ids from their
string form. Columns are selected by name; no value depends on the order of a table's columns.

A store older than versions (``schema.VERSIONED``) is read as it is until its first write
migrates it: its select lists give every channel and link version 1, the version the
migration gives them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any

from reconciler.backends.local.schema import VALUES
from reconciler.errors import BackendError, StoreDamaged
from reconciler.model import Channel, ChannelStatus, Link

#: How a check reads: ``db.execute(sql, params).fetchall()`` or ``Store.query``.
Query = Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]

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
#: The types of the values of a ``Link`` read from a sound store (TEXT affinity makes a
#: number text; only a BLOB, or a REAL in an INTEGER column, comes back as another type).
_LINK_TYPES = frozenset({str, int, type(None)})
#: The columns of ``channels`` a ``Channel`` is made of (``channel_of``), by name.
CHANNEL_FIELDS = ("id", "account", "display_name", "status", "version")


def select_list(
    fields: Iterable[str], *, versioned: bool, sql: Mapping[str, str] | None = None
) -> str:
    """The ``SELECT`` list of ``fields`` (each its column, or its SQL in ``sql``); a
    ``version`` is the constant 1 in a store that isn't ``versioned`` yet."""
    return ", ".join(column_sql(name, versioned=versioned, sql=sql) for name in fields)


def column_sql(name: str, *, versioned: bool, sql: Mapping[str, str] | None = None) -> str:
    """The SQL of field ``name`` (its column, or its SQL in ``sql``); a ``version`` is the
    constant 1 in a store that isn't ``versioned`` yet."""
    if name == "version" and not versioned:
        return "1"
    return (sql or {}).get(name, name)


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


@cache
def _rules(table: str, *, versioned: bool) -> dict[str, str]:
    """The SQL rule of each column of ``table`` (``schema.VALUES``; ``version`` only in a
    ``versioned`` store), true exactly when the value is one the schema allows."""
    return {
        column: "coalesce(" + rule.format(column) + ", 0)"
        for column, rule in VALUES[table].items()
        if versioned or column != "version"
    }


@cache
def broken_column(table: str, *, versioned: bool, otherwise: str = "NULL") -> str:
    """SQL over one row of ``table``: the name of its first column holding a value outside
    the schema, or ``otherwise`` (SQL: NULL unless given) when every value is one the schema
    allows. A read that selects it beside a row's values checks the row in the same
    statement (``refuse_broken``)."""
    rules = _rules(table, versioned=versioned).items()
    cases = " ".join(f"WHEN NOT {rule} THEN '{column}'" for column, rule in rules)
    return f"CASE {cases} ELSE {otherwise} END"


def refuse_broken(rows: list[tuple[Any, ...]], table: str, *, store: Path) -> None:
    """``StoreDamaged`` naming the first of ``rows`` (each its id first and its
    ``broken_column`` last) that holds a value outside the schema; nothing when none does."""
    for row in rows:
        if row[-1] is not None:
            raise damaged(store, table, int(row[0]), str(row[-1]))


def damaged(store: Path, table: str, row: int, column: str) -> StoreDamaged:
    """The error of row ``row`` of ``table`` holding in ``column`` a value outside the schema."""
    return StoreDamaged(
        f"store {store} is damaged: row {row} of table {table} has a {column} that is not "
        "one the schema allows (was the file edited by hand?); restore it from a backup",
        table=table,
        row=row,
        column=column,
    )


def check_values(
    query: Query,
    table: str,
    *,
    store: Path,
    versioned: bool,
    where: str = "1",
    params: tuple[Any, ...] = (),
) -> None:
    """Raise ``StoreDamaged`` naming the first row of ``table`` (of those the SQL condition
    ``where`` selects) that holds a value outside the schema (``schema.VALUES``: a BLOB
    title, a status outside its two values); nothing when every value is one the schema
    allows. One query, in SQLite."""
    which = broken_column(table, versioned=versioned)
    broken = " OR ".join(f"NOT {rule}" for rule in _rules(table, versioned=versioned).values())
    rows = query(f"SELECT min(id), {which} FROM {table} WHERE ({where}) AND ({broken})", params)
    if rows and rows[0][0] is not None:
        raise damaged(store, table, int(rows[0][0]), str(rows[0][1]))


def channel_of(
    db: sqlite3.Connection, row: tuple[Any, ...], *, store: Path, versioned: bool
) -> Channel:
    """The channel of a ``channels`` row selected as ``channel_columns``, its links read
    from ``db``; ``StoreDamaged`` when the channel or one of its links holds a value outside
    the schema."""
    column = dict(zip(CHANNEL_FIELDS, row, strict=True))
    read = _reader(db)
    check_values(
        read, "channels", store=store, versioned=versioned, where="id = ?", params=(column["id"],)
    )
    query = links_of_channel(versioned=versioned)
    links = tuple(map(Link._make, db.execute(query, (column["id"],))))
    # The fast path's guard: a value of no type a link's columns hold (a BLOB, a REAL) sends
    # the links to the full check, which names the row. One pass in C: 100k links read in
    # twice the time when every row went through the SQL check (measured, 100k links).
    if not _LINK_TYPES.issuperset(map(type, chain.from_iterable(links))):
        check_values(
            read,
            "links",
            store=store,
            versioned=versioned,
            where="channel_id = ?",
            params=(column["id"],),
        )
    return Channel(
        id=str(column["id"]),
        account=str(column["account"]),
        display_name=str(column["display_name"]),
        status=ChannelStatus(column["status"]),
        links=links,
        version=int(column["version"]),
    )


def _reader(db: sqlite3.Connection) -> Query:
    """``db`` as a ``Query``."""
    return lambda sql, params: db.execute(sql, params).fetchall()
