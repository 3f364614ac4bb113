"""Channels and links as the HTTP API shows them (docs/api.md): plain JSON data made from the
local store's rows, selected by column name; for pages, their JSON written by SQLite itself
(``json_columns``: some 200 us less a page of 50 links than rows made into dicts and dumped).

The engine's backend records a create's answer in this shape (the idempotency record), and the
sandbox serves it; nothing else uses it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, cast

from reconciler.backends.local.rows import (
    CHANNEL_FIELDS,
    broken_column,
    channel_columns,
    column_sql,
    damaged,
    refuse_broken,
    select_list,
)
from reconciler.errors import StoreDamaged
from reconciler.events import UrlEvent
from reconciler.model import Link

__all__ = [
    "channel_columns",
    "channel_dict",
    "encoded",
    "event_dict",
    "json_columns",
    "json_rows",
    "link_columns",
    "link_dict",
    "link_from_dict",
    "shown_columns",
    "shown_rows",
]

#: A channel as the API shows it is the ``CHANNEL_FIELDS`` columns, in that order; a link, these
#: columns of ``links``, in this order.
LINK_FIELDS = (
    "id",
    "channel_id",
    "title",
    "ref",
    "message",
    "url",
    "created_at",
    "updated_at",
    "version",
)
#: The fields that are ids: the API shows them as strings.
_IDS = frozenset({"id", "channel_id"})
#: The fields of each table as the API shows them.
_FIELDS = {"channels": CHANNEL_FIELDS, "links": LINK_FIELDS}
#: The ids as SQL gives them to ``shown_rows``: as text.
_IDS_AS_TEXT = {name: f"CAST({name} AS TEXT)" for name in _IDS}


def link_columns(*, versioned: bool) -> str:
    """The ``SELECT`` list of a link (``LINK_FIELDS``)."""
    return select_list(LINK_FIELDS, versioned=versioned)


@cache
def shown_columns(table: str, *, versioned: bool) -> str:
    """The ``SELECT`` list of a channel or link (``table``) as the API shows it (ids as text),
    and last the check of the row's values (``rows.broken_column``), for ``shown_rows``."""
    fields = select_list(_FIELDS[table], versioned=versioned, sql=_IDS_AS_TEXT)
    return f"{fields}, {broken_column(table, versioned=versioned)}"


def shown_rows(table: str, rows: list[tuple[Any, ...]], *, store: Path) -> list[dict[str, Any]]:
    """Rows of ``table`` selected as ``shown_columns``, as the API shows them; ``StoreDamaged``
    when one holds a value outside the schema (``rows.refuse_broken``)."""
    refuse_broken(rows, table, store=store)
    fields = _FIELDS[table]
    # Not strict: the check, last in each row, is left out.
    return [dict(zip(fields, row, strict=False)) for row in rows]


def encoded(data: Any) -> bytes:
    """``data`` as the API writes JSON: UTF-8 (no ``\\u`` escapes of letters), no blanks
    between tokens. SQLite's ``json_object`` writes a row the same way, to the byte
    (``json_columns``; tests/backends/local/test_api.py holds them to each other)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@cache
def json_columns(table: str, *, versioned: bool) -> str:
    """The ``SELECT`` list of a channel or link (``table``) as the API shows it, encoded by
    SQLite: its id, then its JSON object (``json_object`` of the fields of ``shown_columns``,
    in order) as UTF-8 bytes; or in its place, for a row holding a value outside the schema,
    the name of the first such column, as text (``rows.broken_column``): a row is checked in
    the statement that reads it, and never encoded when it is damaged."""
    pairs = ", ".join(
        f"'{name}', {column_sql(name, versioned=versioned, sql=_IDS_AS_TEXT)}"
        for name in _FIELDS[table]
    )
    row = f"CAST(json_object({pairs}) AS BLOB)"
    return f"id, {broken_column(table, versioned=versioned, otherwise=row)}"


def json_rows(table: str, rows: list[tuple[Any, ...]], *, store: Path) -> list[tuple[int, bytes]]:
    """Rows of ``table`` selected as ``json_columns``: each its id and its JSON.
    ``StoreDamaged`` for a row holding a value outside the schema, or text that is not UTF-8
    (SQLite would write its bytes as they are; reading them as text in Python refuses them)."""
    for ident, value in rows:
        if value.__class__ is str:
            raise damaged(store, table, ident, value)
    try:
        b"".join([value for _, value in rows]).decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(table, rows, store) from None
    return cast(list[tuple[int, bytes]], rows)


def _not_utf8(table: str, rows: list[tuple[Any, ...]], store: Path) -> StoreDamaged:
    """The error of the first of ``rows`` (as ``json_rows`` takes them) holding text that is
    not UTF-8, naming its column."""
    ident, value = next(row for row in rows if not _is_utf8(row[1]))
    # Each byte that isn't UTF-8 becomes a lone surrogate (U+DC80-U+DCFF) in its field.
    fields = json.loads(value.decode("utf-8", "surrogateescape"))
    column = next(
        name
        for name, text in fields.items()
        if isinstance(text, str) and not _is_utf8(text.encode("utf-8", "surrogateescape"))
    )
    return damaged(store, table, ident, column)


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 text (no lone surrogates)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def channel_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A ``channels`` row selected as ``channel_columns``, as the API shows a channel."""
    return _shown(CHANNEL_FIELDS, row)


def link_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """A ``links`` row selected as ``link_columns``, as the API shows a link."""
    return _shown(LINK_FIELDS, row)


def event_dict(ident: int, event: UrlEvent) -> dict[str, Any]:
    """An entry of the URL history as the API shows it: ``id`` its place in the history."""
    return {
        "id": str(ident),
        "account": event.channel,
        "link_id": event.link_id,
        "title": event.title,
        "event": str(event.event),
        "old_url": event.old_url,
        "new_url": event.new_url,
        "at": event.at,
    }


def link_from_dict(data: dict[str, Any]) -> Link:
    """The ``Link`` of a link as the API shows it (``link_dict``; a create recorded before
    versions has none: it was version 1)."""
    link_id = int(data["id"])
    return Link(
        id=str(link_id),
        title=data["title"],
        ref=data["ref"],
        message=data["message"],
        url=data["url"],
        seq=link_id,
        version=int(data.get("version", 1)),
    )


def _shown(fields: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    """``row`` keyed by ``fields``, ids as strings."""
    return {
        name: str(value) if name in _IDS else value for name, value in zip(fields, row, strict=True)
    }
