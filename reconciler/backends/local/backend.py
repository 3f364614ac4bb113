"""The local workspace as the engine sees it: ``LocalBackend``, the ``Backend`` of a SQLite
file standing in for a SleekFlow workspace.

For trying the tool, demos and tests, and the store ``sandbox serve`` serves over HTTP. Every
write is one transaction (``BEGIN IMMEDIATE``), so a process killed mid-apply leaves either
the whole step or none of it. A write to a channel or link checks its version inside that
transaction (``WorkspaceChanged`` when it moved) and bumps it. The file, its schema and its
checks are ``store``'s; what only the sandbox's API asks of the store is ``api.StoreApi``'s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.backends.base import Capabilities
from reconciler.backends.local import guards
from reconciler.backends.local import history as url_history
from reconciler.backends.local.rows import channel_columns, channel_of, parse_id
from reconciler.backends.local.shapes import link_dict, link_from_dict
from reconciler.backends.local.store import DEFAULT_STORE, Store
from reconciler.errors import BackendError, IdempotencyMismatch
from reconciler.events import UrlEvent, as_utc
from reconciler.model import (
    Channel,
    ChannelStatus,
    Link,
    WorkspaceRef,
    WorkspaceState,
    fold,
    link_url,
)

#: How long an idempotency key is remembered.
IDEMPOTENCY_TTL = timedelta(hours=24)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalBackend:
    """The workspace in a SQLite file at ``path`` (created on the first write), or in a
    connection given by the caller (tests: ``sqlite3.connect(":memory:")``). ``clock`` gives
    the time of each write (history, idempotency keys); ``wal`` puts the file in WAL mode
    (``Store``).

    The engine's ``Backend``: ``read`` and the writes, plus the URL ``history`` the local
    workspace keeps (``links.history``). Its store is ``store``."""

    capabilities = Capabilities(can_connect=True)

    def __init__(
        self,
        path: str | Path = DEFAULT_STORE,
        *,
        connection: sqlite3.Connection | None = None,
        clock: Callable[[], datetime] = _utcnow,
        wal: bool = False,
    ) -> None:
        self.description = f"local workspace {path}"
        self._clock = clock
        #: The SQLite store this backend reads and writes (``wal``: see ``Store``).
        self.store = Store(path, connection=connection, wal=wal)

    @property
    def path(self) -> Path:
        """The store's file."""
        return self.store.path

    def close(self) -> None:
        """Close the store's connection (a later call opens it again)."""
        self.store.close()

    # --- reading ---------------------------------------------------------------------------

    def read(self) -> WorkspaceState:
        """Every channel with its links; an empty state when the store doesn't exist yet
        (nothing is created by reading)."""
        # One snapshot: the channels and their links agree, even while another process writes.
        with self.store.snapshot() as db:
            if db is None:
                return WorkspaceState()
            versioned = self.store.versioned
            columns = channel_columns(versioned=versioned)
            rows = db.execute(f"SELECT {columns} FROM channels ORDER BY account_key").fetchall()
            channels = tuple(
                channel_of(db, row, store=self.path, versioned=versioned) for row in rows
            )
        return WorkspaceState(channels)

    def workspace(self) -> WorkspaceRef:
        """This workspace: the store's absolute path (symlinks resolved) and its id (None
        while the store doesn't exist, or predates ids until its first write). Reading it
        creates nothing."""
        return WorkspaceRef("local", str(self.path.resolve()), self.store.workspace_id())

    def history(
        self, account: str | None = None, title: str | None = None, *, since: datetime | None = None
    ) -> list[UrlEvent]:
        """The URL history, oldest first: every channel's, or ``account``'s (ignoring case;
        a removed channel's is kept), from ``since`` on (inclusive) when given; with
        ``title``, only the entries made under that title (ignoring case; ``history``
        follows a link through its renames)."""
        rows = self.history_page(account, since=since)
        return [e for _, e in rows if title is None or e.title.casefold() == title.casefold()]

    def history_page(
        self,
        account: str | None = None,
        *,
        since: datetime | None = None,
        after: int = 0,
        limit: int = -1,
    ) -> list[tuple[int, UrlEvent]]:
        """Up to ``limit`` (-1: all) entries of the URL history with an id above ``after``,
        oldest first, each with its id (what a page of the API's history is cut at)."""
        return url_history.page(self.store, account=account, since=since, after=after, limit=limit)

    # --- channels --------------------------------------------------------------------------

    def connect_channel(self, account: str, display_name: str) -> Channel:
        """Connect ``account`` named ``display_name``, or reconnect it when it is disconnected
        (its id and links are kept, its name set). Connecting a connected channel is a
        ``BackendError``."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT id, account, status FROM channels WHERE account_key = ?",
                (fold(account),),
            ).fetchone()
            if row is not None:
                channel_id, stored, status = row
                if status == ChannelStatus.CONNECTED:
                    raise BackendError(
                        f"channel {stored} is already connected in {self.description}"
                    )
                db.execute(
                    "UPDATE channels SET status = 'connected', display_name = ?, "
                    "version = version + 1 WHERE id = ?",
                    (display_name, channel_id),
                )
            else:
                cur = db.execute(
                    "INSERT INTO channels (account, account_key, display_name, status) "
                    "VALUES (?, ?, ?, 'connected')",
                    (account, fold(account), display_name),
                )
                channel_id = cur.lastrowid
        return self.channel(channel_id)

    def rename_channel(self, channel_id: str, display_name: str, *, version: int) -> Channel:
        """Change the display name shown inside SleekFlow, if the channel is at ``version``
        (else ``WorkspaceChanged``); the channel as stored. Its own name again writes
        nothing."""
        with self.store.transaction() as db:
            name = guards.channel_at(db, channel_id, version, "display_name", self.description)
            if name != display_name:
                db.execute(
                    "UPDATE channels SET display_name = ?, version = version + 1 WHERE id = ?",
                    (display_name, parse_id(channel_id)),
                )
            columns = channel_columns(versioned=True)
            row = db.execute(
                f"SELECT {columns} FROM channels WHERE id = ?", (parse_id(channel_id),)
            ).fetchone()
            return channel_of(db, row, store=self.path, versioned=True)

    def remove_channel(self, channel_id: str, *, version: int) -> None:
        """Remove a channel and its links (each link's removal is kept in the history), if
        the channel is at ``version`` (else ``WorkspaceChanged``)."""
        now = self._now()
        with self.store.transaction() as db:
            key = guards.channel_at(db, channel_id, version, "account_key", self.description)
            db.execute(
                "INSERT INTO link_history (link_id, account, title, event, old_url, new_url, at) "
                "SELECT id, ?, title, 'removed', url, NULL, ? FROM links WHERE channel_id = ?",
                (key, now, parse_id(channel_id)),
            )
            db.execute("DELETE FROM channels WHERE id = ?", (parse_id(channel_id),))

    def channel(self, channel_id: int) -> Channel:
        """One channel with its links, as stored now (after a write to it); a
        ``BackendError`` when there is no such channel."""
        channel = None
        with self.store.snapshot() as db:
            if db is not None:
                versioned = self.store.versioned
                columns = channel_columns(versioned=versioned)
                row = db.execute(
                    f"SELECT {columns} FROM channels WHERE id = ?", (channel_id,)
                ).fetchone()
                if row is not None:
                    channel = channel_of(db, row, store=self.path, versioned=versioned)
        if channel is None:
            raise BackendError(f"channel {channel_id} vanished from {self.description}")
        return channel

    # --- links -----------------------------------------------------------------------------

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        """Create a link with the URL of the rule.

        ``key`` makes the create idempotent: it is recorded, with the link as first returned
        (as the API shows it: ``shapes.link_dict``), in the same transaction as the link. The
        same key with the same request returns that first link again instead of creating
        another (unless that link has been removed since); with a different request it raises
        ``IdempotencyMismatch``. Keys are forgotten after ``IDEMPOTENCY_TTL``.
        """
        return link_from_dict(
            self.create_link_answer(channel_id, title=title, ref=ref, message=message, key=key)
        )

    def create_link_answer(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> dict[str, Any]:
        """``create_link``, answered as the API shows the link (``shapes.link_dict``): the
        answer recorded with ``key``, read in the create's own transaction (a replay gets the
        very same; one recorded before versions was at version 1)."""
        now = as_utc(self._clock())
        stamp = url_history.utc_text(now)
        request = json.dumps([str(parse_id(channel_id)), title, ref, message], ensure_ascii=False)
        with self.store.transaction() as db:
            expired = url_history.utc_text(now - IDEMPOTENCY_TTL)
            db.execute("DELETE FROM idempotency WHERE created_at < ?", (expired,))
            row = db.execute(
                "SELECT request, response FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            if row is not None:
                recorded_request, response = row
                if recorded_request != request:
                    raise IdempotencyMismatch(
                        "this Idempotency-Key was already used for a different request"
                    )
                first = json.loads(response)
                alive = db.execute(
                    "SELECT 1 FROM links WHERE id = ?", (int(first["id"]),)
                ).fetchone()
                if alive is not None:
                    return {**first, "version": first.get("version", 1)}
                # The link it created was removed since: replaying would hand back a link that
                # no longer exists, so the key is forgotten and the create happens again.
                db.execute("DELETE FROM idempotency WHERE key = ?", (key,))
            account = guards.account_of(db, channel_id, self.description)
            guards.refuse_taken(db, channel_id, account, title)
            url = link_url(account, ref, message)
            cur = db.execute(
                "INSERT INTO links "
                "(channel_id, title, title_key, ref, message, url, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (parse_id(channel_id), title, fold(title), ref, message, url, stamp, stamp),
            )
            link_id = cur.lastrowid
            assert link_id is not None
            url_history.record(
                db,
                link_id=link_id,
                account=account,
                title=title,
                event="created",
                old_url=None,
                new_url=url,
                at=stamp,
            )
            data = link_dict(
                (link_id, parse_id(channel_id), title, ref, message, url, stamp, stamp, 1)
            )
            db.execute(
                "INSERT INTO idempotency (key, request, response, created_at) VALUES (?, ?, ?, ?)",
                (key, request, json.dumps(data, ensure_ascii=False), stamp),
            )
        return data

    def update_link(
        self,
        channel_id: str,
        link_id: str,
        *,
        title: str,
        ref: str | None,
        message: str,
        version: int,
    ) -> Link:
        """Edit a link, if it is at ``version`` (else ``WorkspaceChanged``): a new ref or
        message gives it a new URL ("regenerated" in the history), a new title alone keeps it
        ("renamed"). Setting the values it already has writes nothing (no new version, no
        history entry); the link as stored."""
        now = self._now()
        with self.store.transaction() as db:
            account = guards.account_of(db, channel_id, self.description)
            old_url, old_title, old_ref, old_message = guards.link_at(
                db,
                channel_id,
                link_id,
                version,
                ("url", "title", "ref", "message"),
                self.description,
            )
            if (old_title, old_ref, old_message) == (title, ref, message):
                return _link(
                    link_id, title=title, ref=ref, message=message, url=old_url, version=version
                )
            if fold(title) != fold(old_title):
                guards.refuse_taken(db, channel_id, account, title)
            url = link_url(account, ref, message)
            db.execute(
                "UPDATE links SET title = ?, title_key = ?, ref = ?, message = ?, url = ?, "
                "updated_at = ?, version = version + 1 WHERE id = ?",
                (title, fold(title), ref, message, url, now, parse_id(link_id)),
            )
            event = "regenerated" if url != old_url else "renamed"
            url_history.record(
                db,
                link_id=parse_id(link_id),
                account=account,
                title=title,
                event=event,
                old_url=old_url,
                new_url=url,
                at=now,
            )
        return _link(link_id, title=title, ref=ref, message=message, url=url, version=version + 1)

    def remove_link(self, channel_id: str, link_id: str, *, version: int) -> None:
        """Remove a link, if it is at ``version`` (else ``WorkspaceChanged``); its last URL
        is kept in the history."""
        now = self._now()
        with self.store.transaction() as db:
            account = guards.account_of(db, channel_id, self.description)
            title, url = guards.link_at(
                db, channel_id, link_id, version, ("title", "url"), self.description
            )
            db.execute("DELETE FROM links WHERE id = ?", (parse_id(link_id),))
            url_history.record(
                db,
                link_id=parse_id(link_id),
                account=account,
                title=title,
                event="removed",
                old_url=url,
                new_url=None,
                at=now,
            )

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> str:
        return url_history.utc_text(self._clock())


def _link(
    link_id: str, *, title: str, ref: str | None, message: str, url: str, version: int
) -> Link:
    """The ``Link`` with id ``link_id`` (its creation order too)."""
    return Link(
        id=link_id,
        title=title,
        ref=ref,
        message=message,
        url=url,
        seq=parse_id(link_id),
        version=version,
    )
