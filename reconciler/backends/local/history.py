"""The store's URL history (the ``link_history`` table): every URL each link had, written
inside the transaction of the write that changed it (``record``), read back oldest first in
pages (``page``), every time in one form (``utc_text``).

``LocalBackend`` writes and reads it; the sandbox serves ``page`` as
``GET /v1/tiktok/message-link-history``.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from reconciler.backends.local.rows import check_values
from reconciler.backends.local.store import Store
from reconciler.events import LinkEvent, UrlEvent, as_utc
from reconciler.model import fold


def utc_text(moment: datetime) -> str:
    """``moment`` as the history writes times: ISO 8601 in UTC, to the second (a time
    without a zone is taken as UTC), so text orders as time does."""
    return as_utc(moment).isoformat(timespec="seconds")


def record(
    db: sqlite3.Connection,
    *,
    link_id: int,
    account: str,
    title: str,
    event: str,
    old_url: str | None,
    new_url: str | None,
    at: str,
) -> None:
    """Add a row to the URL history, inside the caller's write transaction."""
    db.execute(
        "INSERT INTO link_history (link_id, account, title, event, old_url, new_url, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (link_id, fold(account), title, event, old_url, new_url, at),
    )


def page(
    store: Store,
    *,
    account: str | None = None,
    since: datetime | None = None,
    after: int = 0,
    limit: int = -1,
) -> list[tuple[int, UrlEvent]]:
    """Up to ``limit`` (-1: all) entries of ``store``'s URL history with an id above
    ``after``, oldest first, each with its id; only ``account``'s (ignoring case) and those
    at or after ``since`` when given. A row holding a value outside the schema is
    ``StoreDamaged`` (``rows.check_values``), never a crash."""
    where = "id > ?"
    params: list[object] = [after]
    if account is not None:
        where += " AND account = ?"
        params.append(fold(account))
    if since is not None:
        where += " AND at >= ?"
        params.append(utc_text(since))
    rows = store.query(
        "SELECT id, account, link_id, title, event, old_url, new_url, at FROM link_history "
        f"WHERE {where} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    if rows:
        check_values(
            store.query,
            "link_history",
            store=store.path,
            versioned=store.versioned,
            where=where,
            params=tuple(params),
        )
    return [
        (
            row[0],
            UrlEvent(
                channel=row[1],
                link_id=str(row[2]),
                title=row[3],
                event=LinkEvent(row[4]),
                old_url=row[5],
                new_url=row[6],
                at=row[7],
            ),
        )
        for row in rows
    ]
