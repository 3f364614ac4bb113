"""The local workspace as the sandbox's HTTP API sees it: pages as rows of JSON, single
resources as plain JSON data (``shapes``), a create's recorded answer, and SleekFlow's side of
a channel's status.

Only the sandbox uses this view; the engine uses ``LocalBackend``. The view composes a backend
(whose writes the API's routes call) and reads its store through the store's public methods.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from reconciler.backends.local.backend import LocalBackend
from reconciler.backends.local.rows import broken_column, parse_id, refuse_broken
from reconciler.backends.local.shapes import (
    encoded,
    event_dict,
    json_columns,
    json_rows,
    shown_columns,
    shown_rows,
)
from reconciler.errors import BackendError
from reconciler.model import Channel, ChannelStatus, fold


class StoreApi:
    """What the sandbox's API reads of ``backend``'s store, and the token expiry it simulates.
    ``backend`` does the writes; ``close`` closes it."""

    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self._store = backend.store

    def close(self) -> None:
        """Close the backend (and its store)."""
        self.backend.close()

    # --- pages and resources ---------------------------------------------------------------

    def page_channels(self, *, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` channels with an id above ``after``, by id: each its id and its
        JSON (``shapes.json_rows``)."""
        return self._json("channels", "id > ? ORDER BY id LIMIT ?", (after, limit))

    def channel_data(self, channel_id: str) -> dict[str, Any]:
        """One channel as the API shows it; a ``BackendError`` when there is no such one."""
        rows = self._shown("channels", "id = ?", (parse_id(channel_id),))
        if not rows:
            raise BackendError(f"channel {channel_id} does not exist in {self.backend.description}")
        return rows[0]

    def page_links(self, channel_id: str, *, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` links of a channel with an id above ``after``, oldest first, each
        its id and its JSON (``shapes.json_rows``); a ``BackendError`` when there is no such
        channel."""
        ident = parse_id(channel_id)
        store = self._store
        # The channel is checked, not shown: one statement, its values checked in it.
        checked = store.query(
            f"SELECT id, {broken_column('channels', versioned=store.versioned)} "
            "FROM channels WHERE id = ?",
            (ident,),
        )
        if not checked:
            raise BackendError(f"channel {channel_id} does not exist in {self.backend.description}")
        refuse_broken(checked, "channels", store=store.path)
        return self._json(
            "links", "channel_id = ? AND id > ? ORDER BY id LIMIT ?", (ident, after, limit)
        )

    def link_data(self, channel_id: str, link_id: str) -> dict[str, Any]:
        """One link of a channel as the API shows it; a ``BackendError`` when there is no
        such one."""
        # By its id alone: a link of another channel is checked, then not found.
        rows = self._shown("links", "id = ?", (parse_id(link_id),))
        if not rows or rows[0]["channel_id"] != str(parse_id(channel_id)):
            raise BackendError(f"link {link_id} of channel {channel_id} does not exist")
        return rows[0]

    def page_history(
        self, *, account: str | None, since: datetime | None, after: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """Up to ``limit`` entries of the URL history with an id above ``after``, oldest
        first, each its id and its JSON: every channel's or ``account``'s, from ``since`` on."""
        rows = self.backend.history_page(account, since=since, after=after, limit=limit)
        return [(ident, encoded(event_dict(ident, event))) for ident, event in rows]

    def idempotent_response(self, key: str) -> dict[str, Any]:
        """The link as first returned for a create made with ``key`` (``create_link``
        records it); a ``BackendError`` when none was."""
        rows = self._store.query("SELECT response FROM idempotency WHERE key = ?", (key,))
        if not rows:
            raise BackendError(f"no create was recorded for this key in {self.backend.description}")
        # A create recorded before versions made its link at version 1.
        return {"version": 1} | json.loads(rows[0][0])  # type: ignore[no-any-return]

    def workspace_data(self) -> dict[str, Any]:
        """The workspace as the API shows it: its id. A SleekFlow workspace always has one,
        so a store that has none yet (it doesn't exist, or predates ids) is made or migrated
        here to get it."""
        ident = self._store.workspace_id()
        if ident is None:
            with self._store.transaction() as db:
                ident = str(db.execute("SELECT id FROM workspace").fetchone()[0])
        return {"id": ident}

    def _shown(self, table: str, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        """The rows of ``table`` that ``where`` (SQL after ``WHERE``: a condition, an order, a
        limit) selects, as the API shows them, each checked in the same statement:
        ``StoreDamaged`` for one holding a value outside the schema (``shapes.shown_rows``)."""
        store = self._store
        columns = shown_columns(table, versioned=store.versioned)
        rows = store.query(f"SELECT {columns} FROM {table} WHERE {where}", params)
        return shown_rows(table, rows, store=store.path)

    def _json(self, table: str, where: str, params: tuple[Any, ...]) -> list[tuple[int, bytes]]:
        """``_shown``, each row its id and its JSON written by SQLite (``shapes.json_rows``)."""
        store = self._store
        columns = json_columns(table, versioned=store.versioned)
        rows = store.query(f"SELECT {columns} FROM {table} WHERE {where}", params)
        return json_rows(table, rows, store=store.path)

    # --- SleekFlow's side ------------------------------------------------------------------

    def set_status(self, account: str, status: ChannelStatus) -> Channel:
        """Simulate a token expiry (or its repair) on a channel: the channel as it is now. A
        ``BackendError`` when there is no such channel; a store that doesn't exist is not
        created."""
        if not self._store.exists():
            raise BackendError(
                f"no channel {account} in {self.backend.description} (it does not exist yet)"
            )
        with self._store.transaction() as db:
            cur = db.execute(
                "UPDATE channels SET version = version + (status != ?), status = ? "
                "WHERE account_key = ?",
                (str(status), str(status), fold(account)),
            )
            if cur.rowcount == 0:
                raise BackendError(f"no channel {account} in {self.backend.description}")
            channel_id = db.execute(
                "SELECT id FROM channels WHERE account_key = ?", (fold(account),)
            ).fetchone()[0]
        return self.backend.channel(channel_id)
