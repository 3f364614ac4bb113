"""Channels and links as the HTTP API shows them (docs/api.md): plain JSON data made from the
local store's rows, selected by column name.

The engine's backend records a create's answer in this shape (the idempotency record), and the
sandbox serves it; nothing else uses it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from reconciler.backends.local.rows import (
    CHANNEL_FIELDS,
    broken_column,
    channel_columns,
    refuse_broken,
    select_list,
)
from reconciler.events import UrlEvent
from reconciler.model import Link

__all__ = [
    "channel_columns",
    "channel_dict",
    "event_dict",
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
