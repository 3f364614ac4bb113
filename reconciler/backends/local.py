"""The local workspace: a SQLite file standing in for a SleekFlow workspace.

For trying the tool, demos and tests, and the store ``sandbox serve`` serves over HTTP. Every
write is one transaction (``BEGIN IMMEDIATE``), so a process killed mid-apply leaves either
the whole step or none of it. The file, its schema and its checks are ``local_store``'s; the
workspace's operations are here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.backends.base import Capabilities
from reconciler.backends.local_rows import (
    LINK_COLUMNS,
    channel_dict,
    channel_of,
    link_dict,
    link_from_dict,
    parse_id,
)
from reconciler.backends.local_store import APPLICATION_ID, DEFAULT_STORE, SCHEMA_VERSION, Store
from reconciler.errors import BackendError
from reconciler.model import (
    Channel,
    ChannelStatus,
    Link,
    WorkspaceState,
    fold,
    link_url,
    visible,
)

__all__ = [
    "APPLICATION_ID",
    "DEFAULT_STORE",
    "IDEMPOTENCY_TTL",
    "SCHEMA_VERSION",
    "IdempotencyMismatch",
    "LocalBackend",
    "TitleTaken",
]

#: How long an idempotency key is remembered.
IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyMismatch(BackendError):
    """An idempotency key was used before for a different request."""


class TitleTaken(BackendError):
    """Another link of the channel already has the title (ignoring case): the workspace
    changed since the plan (another apply ran, or someone edited it in the UI)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalBackend(Store):
    """The workspace in a SQLite file at ``path`` (created on the first write), or in a
    connection given by the caller (tests: ``sqlite3.connect(":memory:")``)."""

    capabilities = Capabilities(can_connect=True)

    def __init__(
        self,
        path: str | Path = DEFAULT_STORE,
        *,
        connection: sqlite3.Connection | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.description = f"local workspace {path}"
        self._clock = clock
        super().__init__(path, connection=connection)

    # --- reading ---------------------------------------------------------------------------

    def read(self) -> WorkspaceState:
        """Every channel with its links; an empty state when the store doesn't exist yet
        (nothing is created by reading)."""
        db = self._reader()
        if db is None:
            return WorkspaceState()
        # One snapshot: the channels and their links agree, even while another process writes.
        with self._reading(), self._snapshot(db):
            rows = db.execute(
                "SELECT id, account, display_name, status FROM channels ORDER BY account_key"
            ).fetchall()
            channels = tuple(channel_of(db, row) for row in rows)
        return WorkspaceState(channels)

    def history(self, account: str, title: str | None = None) -> list[dict[str, str | None]]:
        """The URL history of a channel's links (or of one title), oldest first. Each row:
        ``link_id`` (stable across renames and regenerations), ``title``, ``event``,
        ``old_url``, ``new_url``, ``at``."""
        query = (
            "SELECT link_id, title, event, old_url, new_url, at FROM link_history WHERE account = ?"
        )
        params: list[str] = [fold(account)]
        if title is not None:
            query += " AND title = ? COLLATE NOCASE"
            params.append(title)
        rows = self._query(query + " ORDER BY id", tuple(params))
        keys = ("link_id", "title", "event", "old_url", "new_url", "at")
        return [dict(zip(keys, (str(row[0]), *row[1:]), strict=True)) for row in rows]

    # --- channels --------------------------------------------------------------------------

    def connect_channel(self, account: str, display_name: str | None) -> Channel:
        """Connect ``account``, or reconnect it when it is disconnected (its id and links are
        kept). ``display_name`` None keeps a reconnected channel's name, and names a new one
        after its account. Connecting a connected channel is a ``BackendError``."""
        with self._tx() as db:
            row = db.execute(
                "SELECT id, account, status, display_name FROM channels WHERE account_key = ?",
                (fold(account),),
            ).fetchone()
            if row is not None and row[2] == ChannelStatus.CONNECTED:
                raise BackendError(f"channel {row[1]} is already connected in {self.description}")
            if row is not None:
                db.execute(
                    "UPDATE channels SET status = 'connected', display_name = ? WHERE id = ?",
                    (display_name if display_name is not None else row[3], row[0]),
                )
                channel_id = row[0]
            else:
                cur = db.execute(
                    "INSERT INTO channels (account, account_key, display_name, status) "
                    "VALUES (?, ?, ?, 'connected')",
                    (account, fold(account), display_name if display_name is not None else account),
                )
                channel_id = cur.lastrowid
        return self._channel(channel_id)

    def set_status(self, account: str, status: ChannelStatus) -> Channel:
        """Sandbox only: simulate a token expiry (or its repair) on a channel. A store that
        doesn't exist is not created."""
        if self._reader() is None:
            raise BackendError(
                f"no channel {account} in {self.description} (it does not exist yet)"
            )
        with self._tx() as db:
            cur = db.execute(
                "UPDATE channels SET status = ? WHERE account_key = ?", (str(status), fold(account))
            )
            if cur.rowcount == 0:
                raise BackendError(f"no channel {account} in {self.description}")
            channel_id = db.execute(
                "SELECT id FROM channels WHERE account_key = ?", (fold(account),)
            ).fetchone()[0]
        return self._channel(channel_id)

    def rename_channel(self, channel_id: str, display_name: str) -> Channel:
        """Change the display name shown inside SleekFlow."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE channels SET display_name = ? WHERE id = ?",
                (display_name, parse_id(channel_id)),
            )
            self._must_exist(cur.rowcount, "channel", channel_id)
        return self._channel(parse_id(channel_id))

    def remove_channel(self, channel_id: str) -> None:
        """Remove a channel and its links (each link's removal is kept in the history)."""
        now = self._now()
        with self._tx() as db:
            row = db.execute(
                "SELECT account_key FROM channels WHERE id = ?", (parse_id(channel_id),)
            ).fetchone()
            self._must_exist(0 if row is None else 1, "channel", channel_id)
            db.execute(
                "INSERT INTO link_history (link_id, account, title, event, old_url, new_url, at) "
                "SELECT id, ?, title, 'removed', url, NULL, ? FROM links WHERE channel_id = ?",
                (row[0], now, parse_id(channel_id)),
            )
            db.execute("DELETE FROM channels WHERE id = ?", (parse_id(channel_id),))

    # --- links -----------------------------------------------------------------------------

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        """Create a link with the URL of the rule.

        ``key`` makes the create idempotent: it is recorded, with the link as first returned,
        in the same transaction as the link. The same key with the same request returns that
        first link again instead of creating another (unless that link has been removed since);
        with a different request it raises ``IdempotencyMismatch``. Keys are forgotten after
        ``IDEMPOTENCY_TTL``.
        """
        now = self._clock()
        stamp = now.isoformat(timespec="seconds")
        request = json.dumps([str(parse_id(channel_id)), title, ref, message], ensure_ascii=False)
        with self._tx() as db:
            expired = (now - IDEMPOTENCY_TTL).isoformat(timespec="seconds")
            db.execute("DELETE FROM idempotency WHERE created_at < ?", (expired,))
            row = db.execute(
                "SELECT request, response FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            if row is not None:
                if row[0] != request:
                    raise IdempotencyMismatch(
                        "this Idempotency-Key was already used for a different request"
                    )
                first = json.loads(row[1])
                alive = db.execute(
                    "SELECT 1 FROM links WHERE id = ?", (int(first["id"]),)
                ).fetchone()
                if alive is not None:
                    return link_from_dict(first)
                # The link it created was removed since: replaying would hand back a link that
                # no longer exists, so the key is forgotten and the create happens again.
                db.execute("DELETE FROM idempotency WHERE key = ?", (key,))
            account = self._account(db, channel_id)
            self._refuse_taken(db, channel_id, account, title)
            url = link_url(account, ref, message)
            cur = db.execute(
                "INSERT INTO links "
                "(channel_id, title, title_key, ref, message, url, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (parse_id(channel_id), title, fold(title), ref, message, url, stamp, stamp),
            )
            link_id = cur.lastrowid
            assert link_id is not None
            self._record(db, link_id, account, title, "created", None, url, stamp)
            data = link_dict(
                (link_id, parse_id(channel_id), title, ref, message, url, stamp, stamp)
            )
            db.execute(
                "INSERT INTO idempotency (key, request, response, created_at) VALUES (?, ?, ?, ?)",
                (key, request, json.dumps(data, ensure_ascii=False), stamp),
            )
        return Link(str(link_id), title, ref, message, url, seq=link_id)

    def idempotent_response(self, key: str) -> dict[str, Any]:
        """The link as first returned for a create made with ``key``."""
        rows = self._query("SELECT response FROM idempotency WHERE key = ?", (key,))
        if not rows:
            raise BackendError(f"no create was recorded for this key in {self.description}")
        return json.loads(rows[0][0])  # type: ignore[no-any-return]

    # --- the API's view: pages of plain data ------------------------------------------------

    def page_channels(self, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` channels with an id above ``after``, by id."""
        rows = self._query(
            "SELECT id, account, display_name, status FROM channels "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit),
        )
        return [channel_dict(row) for row in rows]

    def channel_data(self, channel_id: str) -> dict[str, Any]:
        """One channel as the API shows it; a ``BackendError`` when there is no such one."""
        rows = self._query(
            "SELECT id, account, display_name, status FROM channels WHERE id = ?",
            (parse_id(channel_id),),
        )
        if not rows:
            raise BackendError(f"channel {channel_id} does not exist in {self.description}")
        return channel_dict(rows[0])

    def page_links(self, channel_id: str, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` links of a channel with an id above ``after``, oldest first."""
        self.channel_data(channel_id)
        rows = self._query(
            f"SELECT {LINK_COLUMNS} FROM links WHERE channel_id = ? AND id > ? ORDER BY id LIMIT ?",
            (parse_id(channel_id), after, limit),
        )
        return [link_dict(row) for row in rows]

    def link_data(self, channel_id: str, link_id: str) -> dict[str, Any]:
        """One link of a channel as the API shows it; a ``BackendError`` when there is no
        such one."""
        rows = self._query(
            f"SELECT {LINK_COLUMNS} FROM links WHERE id = ? AND channel_id = ?",
            (parse_id(link_id), parse_id(channel_id)),
        )
        if not rows:
            raise BackendError(f"link {link_id} of channel {channel_id} does not exist")
        return link_dict(rows[0])

    def update_link(
        self, channel_id: str, link_id: str, *, title: str, ref: str | None, message: str
    ) -> Link:
        """Edit a link: a new ref or message gives it a new URL ("regenerated" in the
        history), a new title alone keeps it ("renamed"). Setting the values it already has
        writes nothing, so a request repeated after a lost answer leaves no trace."""
        now = self._now()
        with self._tx() as db:
            account = self._account(db, channel_id)
            row = db.execute(
                "SELECT url, title, ref, message FROM links WHERE id = ? AND channel_id = ?",
                (parse_id(link_id), parse_id(channel_id)),
            ).fetchone()
            self._must_exist(0 if row is None else 1, "link", link_id)
            old_url = row[0]
            if tuple(row[1:]) == (title, ref, message):
                return Link(link_id, title, ref, message, old_url, seq=parse_id(link_id))
            if fold(title) != fold(row[1]):
                self._refuse_taken(db, channel_id, account, title)
            url = link_url(account, ref, message)
            db.execute(
                "UPDATE links SET title = ?, title_key = ?, ref = ?, message = ?, url = ?, "
                "updated_at = ? WHERE id = ?",
                (title, fold(title), ref, message, url, now, parse_id(link_id)),
            )
            event = "regenerated" if url != old_url else "renamed"
            self._record(db, parse_id(link_id), account, title, event, old_url, url, now)
        return Link(link_id, title, ref, message, url, seq=parse_id(link_id))

    def remove_link(self, channel_id: str, link_id: str) -> None:
        """Remove a link; its last URL is kept in the history."""
        now = self._now()
        with self._tx() as db:
            account = self._account(db, channel_id)
            row = db.execute(
                "SELECT title, url FROM links WHERE id = ? AND channel_id = ?",
                (parse_id(link_id), parse_id(channel_id)),
            ).fetchone()
            self._must_exist(0 if row is None else 1, "link", link_id)
            db.execute("DELETE FROM links WHERE id = ?", (parse_id(link_id),))
            self._record(db, parse_id(link_id), account, row[0], "removed", row[1], None, now)

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> str:
        return self._clock().isoformat(timespec="seconds")

    def _channel(self, channel_id: int) -> Channel:
        """One channel with its links, as stored now (after a write to it)."""
        db = self._reader()
        channel = None
        if db is not None:
            with self._reading(), self._snapshot(db):
                row = db.execute(
                    "SELECT id, account, display_name, status FROM channels WHERE id = ?",
                    (channel_id,),
                ).fetchone()
                if row is not None:
                    channel = channel_of(db, row)
        if channel is None:
            raise BackendError(f"channel {channel_id} vanished from {self.description}")
        return channel

    def _account(self, db: sqlite3.Connection, channel_id: str) -> str:
        row = db.execute(
            "SELECT account FROM channels WHERE id = ?", (parse_id(channel_id),)
        ).fetchone()
        self._must_exist(0 if row is None else 1, "channel", channel_id)
        return str(row[0])

    def _refuse_taken(
        self, db: sqlite3.Connection, channel_id: str, account: str, title: str
    ) -> None:
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

    def _must_exist(self, rowcount: int, kind: str, ident: str) -> None:
        if rowcount == 0:
            raise BackendError(
                f"{kind} {ident} does not exist in {self.description} (changed since the plan?)"
            )

    @staticmethod
    def _record(
        db: sqlite3.Connection,
        link_id: int,
        account: str,
        title: str,
        event: str,
        old_url: str | None,
        new_url: str | None,
        at: str,
    ) -> None:
        db.execute(
            "INSERT INTO link_history (link_id, account, title, event, old_url, new_url, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (link_id, fold(account), title, event, old_url, new_url, at),
        )
