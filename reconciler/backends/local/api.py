"""The local workspace as the sandbox's HTTP API sees it: pages and single resources as plain
JSON data (``shapes``), a create's recorded answer, and SleekFlow's side of a channel's status.

Only the sandbox uses this view; the engine uses ``LocalBackend``. The view composes a backend
(whose writes the API's routes call) and reads its store through the store's public methods.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from reconciler.backends.local.backend import LocalBackend
from reconciler.backends.local.rows import check_values, parse_id
from reconciler.backends.local.shapes import (
    channel_columns,
    channel_dict,
    event_dict,
    link_columns,
    link_dict,
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

    def page_channels(self, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` channels with an id above ``after``, by id."""
        rows = self._store.query(
            f"SELECT {self._channel_columns()} FROM channels WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit),
        )
        if rows:
            self._check("channels", "id > ? AND id <= ?", (after, rows[-1][0]))
        return [channel_dict(row) for row in rows]

    def channel_data(self, channel_id: str) -> dict[str, Any]:
        """One channel as the API shows it; a ``BackendError`` when there is no such one."""
        rows = self._store.query(
            f"SELECT {self._channel_columns()} FROM channels WHERE id = ?",
            (parse_id(channel_id),),
        )
        self._check("channels", "id = ?", (parse_id(channel_id),))
        if not rows:
            raise BackendError(f"channel {channel_id} does not exist in {self.backend.description}")
        return channel_dict(rows[0])

    def page_links(self, channel_id: str, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` links of a channel with an id above ``after``, oldest first; a
        ``BackendError`` when there is no such channel."""
        self.channel_data(channel_id)
        rows = self._store.query(
            f"SELECT {self._link_columns()} FROM links "
            "WHERE channel_id = ? AND id > ? ORDER BY id LIMIT ?",
            (parse_id(channel_id), after, limit),
        )
        if rows:
            self._check(
                "links",
                "channel_id = ? AND id > ? AND id <= ?",
                (parse_id(channel_id), after, rows[-1][0]),
            )
        return [link_dict(row) for row in rows]

    def link_data(self, channel_id: str, link_id: str) -> dict[str, Any]:
        """One link of a channel as the API shows it; a ``BackendError`` when there is no
        such one."""
        rows = self._store.query(
            f"SELECT {self._link_columns()} FROM links WHERE id = ? AND channel_id = ?",
            (parse_id(link_id), parse_id(channel_id)),
        )
        self._check("links", "id = ?", (parse_id(link_id),))
        if not rows:
            raise BackendError(f"link {link_id} of channel {channel_id} does not exist")
        return link_dict(rows[0])

    def page_history(
        self, *, account: str | None, since: datetime | None, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` entries of the URL history with an id above ``after``, oldest
        first: every channel's or ``account``'s, from ``since`` on."""
        rows = self.backend.history_page(account, since=since, after=after, limit=limit)
        return [event_dict(ident, event) for ident, event in rows]

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

    def _check(self, table: str, where: str, params: tuple[Any, ...]) -> None:
        """``StoreDamaged`` for a row ``where`` selects that holds a value outside the
        schema (``rows.check_values``)."""
        check_values(
            self._store.query,
            table,
            store=self._store.path,
            versioned=self._store.versioned,
            where=where,
            params=params,
        )

    def _channel_columns(self) -> str:
        return channel_columns(versioned=self._store.versioned)

    def _link_columns(self) -> str:
        return link_columns(versioned=self._store.versioned)

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
