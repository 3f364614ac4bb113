"""The local workspace: a SQLite file standing in for a SleekFlow workspace.

For trying the tool, demos and tests, and the store ``sandbox serve`` serves over HTTP. Every
write is one transaction (``BEGIN IMMEDIATE``), so a process killed mid-apply leaves either
the whole step or none of it. The file carries an application id and a schema version; a
foreign, corrupt or newer file is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.backends.base import Capabilities
from reconciler.errors import BackendError, StoreError
from reconciler.files import reason
from reconciler.model import (
    Channel,
    ChannelStatus,
    Link,
    WorkspaceState,
    fold,
    link_url,
    visible,
)

DEFAULT_STORE = ".reconciler/workspace.db"
#: PRAGMA application_id of a reconciler store ("RCNL").
APPLICATION_ID = 0x52434E4C
SCHEMA_VERSION = 3
#: How long an idempotency key is remembered.
IDEMPOTENCY_TTL = timedelta(hours=24)

_SCHEMA = """
CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    account_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('connected', 'disconnected'))
);
CREATE TABLE links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    ref TEXT,
    message TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX links_channel ON links(channel_id);
CREATE TABLE link_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    link_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    title TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('created', 'regenerated', 'renamed', 'removed')),
    old_url TEXT,
    new_url TEXT,
    at TEXT NOT NULL
);
CREATE INDEX link_history_account ON link_history(account, title);
"""

#: Statements that take a store from version N to N + 1.
_MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idempotency_created ON idempotency(created_at);
""",
    # A link's title as titles match (case ignored, Unicode-wide): what makes a second link
    # with a title the channel already has refusable inside the transaction that would add it.
    2: """
ALTER TABLE links ADD COLUMN title_key TEXT;
UPDATE links SET title_key = reconciler_fold(title);
CREATE INDEX links_title ON links(channel_id, title_key);
""",
}


class IdempotencyMismatch(BackendError):
    """An idempotency key was used before for a different request."""


class TitleTaken(BackendError):
    """Another link of the channel already has the title (ignoring case): the workspace
    changed since the plan (another apply ran, or someone edited it in the UI)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LocalBackend:
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
        self.path = Path(path)
        self.description = f"local workspace {path}"
        self._clock = clock
        self._db = connection
        #: True once the open database is known to hold a schema this version reads.
        self._ready = False
        self._version = SCHEMA_VERSION
        if connection is not None:
            connection.isolation_level = None
            self._prepare(connection, create=True)

    # --- opening ---------------------------------------------------------------------------

    def _connection(self, *, create: bool) -> sqlite3.Connection | None:
        """The open connection; None when the store doesn't exist and ``create`` is false.

        With ``create``, a missing store is created (with its parent directories) and an
        empty one is given the schema; without it, nothing is ever written.
        """
        if self._db is not None:
            if not self._ready:
                # Blank when last seen: another process may have written it since.
                self._prepare(self._db, create=create)
            return self._db
        try:
            if self.path.is_dir():
                raise StoreError(f"store {self.path} is a directory, not a reconciler store")
            exists = self.path.exists()
        except OSError as exc:
            raise StoreError(f"cannot open store {self.path}: {_reason(exc)}") from exc
        if not exists and not create:
            return None
        try:
            if not exists:
                self._make_parent()
            db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open store {self.path}: {_reason(exc)}") from exc
        try:
            self._prepare(db, create=create)
        except BaseException:
            db.close()
            raise
        self._db = db
        return db

    def _make_parent(self) -> None:
        """Create the store's directory; a regular file in the way is named, not "File exists"."""
        for parent in (self.path.parent, *self.path.parent.parents):
            if parent.exists() or parent.is_symlink():
                if not parent.is_dir():
                    raise StoreError(
                        f"cannot create store {self.path}: {parent} is not a directory"
                    )
                break
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise StoreError(
                f"cannot create store {self.path}: directory {self.path.parent} is not writable"
            )

    def _prepare(self, db: sqlite3.Connection, *, create: bool) -> None:
        """Check that ``db`` is a reconciler store this version understands; with ``create``,
        give an empty database the schema. Raises ``StoreError`` before writing anything."""
        try:
            # The migrations and every write call it: the fold of titles, as plans match them.
            db.create_function("reconciler_fold", 1, fold, deterministic=True)
            db.execute("PRAGMA foreign_keys = ON")
            blank = self._is_blank(db)
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"store {self.path} is not a reconciler store (not a SQLite database, or corrupt): "
                f"{_reason(exc)}"
            ) from exc
        if blank:
            if create:
                self._initialise(db)
            return
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"store {self.path} is a SQLite file of another program, not a reconciler store"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {version}, newer than this reconciler "
                f"understands ({SCHEMA_VERSION}): upgrade reconciler"
            )
        if version < 1:
            raise StoreError(
                f"store {self.path} has schema version {version}, which this reconciler "
                f"cannot read (it expects {SCHEMA_VERSION})"
            )
        # An older store is read as it is; it is migrated by the first write.
        self._version = version
        self._ready = True

    @staticmethod
    def _is_blank(db: sqlite3.Connection) -> bool:
        """An empty database (a new or 0-byte file): no tables, no ids, nothing to lose."""
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        return bool(tables == 0 and app_id == 0 and version == 0)

    def _initialise(self, db: sqlite3.Connection) -> None:
        """Give a blank database the schema, in one transaction."""
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write store {self.path}: {_reason(exc)}") from exc
        try:
            # Another process may have initialised the store while this one waited for the
            # write lock: check again under it.
            if self._is_blank(db):
                _run_script(db, _SCHEMA)
                for version in range(1, SCHEMA_VERSION):
                    _run_script(db, _MIGRATIONS[version])
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(db)
            raise StoreError(f"cannot write store {self.path}: {_reason(exc)}") from exc
        self._prepare(db, create=False)
        if not self._ready:
            raise StoreError(f"cannot initialise store {self.path}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; any SQLite failure rolls it back and becomes a StoreError."""
        db = self._connection(create=True)
        assert db is not None
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write store {self.path}: {_reason(exc)}") from exc
        try:
            self._migrate(db)
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            _rollback(db)
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot write store {self.path}: {_reason(exc)}") from exc
            raise

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring an older store up to SCHEMA_VERSION, inside the caller's write transaction."""
        if self._version >= SCHEMA_VERSION:
            return
        version = db.execute("PRAGMA user_version").fetchone()[0]
        while version < SCHEMA_VERSION:
            _run_script(db, _MIGRATIONS[version])
            version += 1
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._version = SCHEMA_VERSION

    def close(self) -> None:
        """Close the connection (a later call opens it again)."""
        self._ready = False
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- reading ---------------------------------------------------------------------------

    def read(self) -> WorkspaceState:
        """Every channel with its links; an empty state when the store doesn't exist yet
        (nothing is created by reading)."""
        db = self._connection(create=False)
        if db is None or not self._ready:
            return WorkspaceState()
        # One read transaction: the channels and their links are one snapshot, even while
        # another process writes.
        make = Link._make
        try:
            db.execute("BEGIN")
            try:
                rows = db.execute(
                    "SELECT id, account, display_name, status FROM channels ORDER BY account_key"
                ).fetchall()
                channels = tuple(
                    Channel(
                        str(cid),
                        account,
                        name,
                        ChannelStatus(status),
                        tuple(map(make, db.execute(_LINKS_OF_CHANNEL, (cid,)))),
                    )
                    for cid, account, name, status in rows
                )
            finally:
                _rollback(db)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc
        return WorkspaceState(channels)

    def history(self, account: str, title: str | None = None) -> list[dict[str, str | None]]:
        """The URL history of a channel's links (or of one title), oldest first. Each row:
        ``link_id`` (stable across renames and regenerations), ``title``, ``event``,
        ``old_url``, ``new_url``, ``at``."""
        db = self._connection(create=False)
        if db is None or not self._ready:
            return []
        query = (
            "SELECT link_id, title, event, old_url, new_url, at FROM link_history WHERE account = ?"
        )
        params: list[str] = [fold(account)]
        if title is not None:
            query += " AND title = ? COLLATE NOCASE"
            params.append(title)
        try:
            rows = db.execute(query + " ORDER BY id", params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc
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
        if self._connection(create=False) is None or not self._ready:
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
                "UPDATE channels SET display_name = ? WHERE id = ?", (display_name, _id(channel_id))
            )
            self._must_exist(cur.rowcount, "channel", channel_id)
        return self._channel(_id(channel_id))

    def remove_channel(self, channel_id: str) -> None:
        """Remove a channel and its links (each link's removal is kept in the history)."""
        now = self._now()
        with self._tx() as db:
            row = db.execute(
                "SELECT account_key FROM channels WHERE id = ?", (_id(channel_id),)
            ).fetchone()
            self._must_exist(0 if row is None else 1, "channel", channel_id)
            db.execute(
                "INSERT INTO link_history (link_id, account, title, event, old_url, new_url, at) "
                "SELECT id, ?, title, 'removed', url, NULL, ? FROM links WHERE channel_id = ?",
                (row[0], now, _id(channel_id)),
            )
            db.execute("DELETE FROM channels WHERE id = ?", (_id(channel_id),))

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
        request = json.dumps([str(_id(channel_id)), title, ref, message], ensure_ascii=False)
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
                    return _link_from_data(first)
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
                (_id(channel_id), title, fold(title), ref, message, url, stamp, stamp),
            )
            link_id = cur.lastrowid
            assert link_id is not None
            self._record(db, link_id, account, title, "created", None, url, stamp)
            data = _link_data((link_id, _id(channel_id), title, ref, message, url, stamp, stamp))
            db.execute(
                "INSERT INTO idempotency (key, request, response, created_at) VALUES (?, ?, ?, ?)",
                (key, request, json.dumps(data, ensure_ascii=False), stamp),
            )
        return Link(str(link_id), title, ref, message, url, seq=link_id)

    def idempotent_response(self, key: str) -> dict[str, Any]:
        """The link as first returned for a create made with ``key``."""
        db = self._connection(create=False)
        row = None
        if db is not None and self._ready:
            try:
                row = db.execute(
                    "SELECT response FROM idempotency WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc
        if row is None:
            raise BackendError(f"no create was recorded for this key in {self.description}")
        return json.loads(row[0])  # type: ignore[no-any-return]

    # --- the API's view: pages of plain data ------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        db = self._connection(create=False)
        if db is None or not self._ready:
            return []
        try:
            return db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc

    def page_channels(self, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` channels with an id above ``after``, by id."""
        rows = self._query(
            "SELECT id, account, display_name, status FROM channels "
            "WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit),
        )
        return [_channel_data(row) for row in rows]

    def channel_data(self, channel_id: str) -> dict[str, Any]:
        rows = self._query(
            "SELECT id, account, display_name, status FROM channels WHERE id = ?",
            (_id(channel_id),),
        )
        if not rows:
            raise BackendError(f"channel {channel_id} does not exist in {self.description}")
        return _channel_data(rows[0])

    def page_links(self, channel_id: str, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` links of a channel with an id above ``after``, oldest first."""
        self.channel_data(channel_id)
        rows = self._query(
            f"SELECT {_LINK_COLUMNS} FROM links "
            "WHERE channel_id = ? AND id > ? ORDER BY id LIMIT ?",
            (_id(channel_id), after, limit),
        )
        return [_link_data(row) for row in rows]

    def link_data(self, channel_id: str, link_id: str) -> dict[str, Any]:
        rows = self._query(
            f"SELECT {_LINK_COLUMNS} FROM links WHERE id = ? AND channel_id = ?",
            (_id(link_id), _id(channel_id)),
        )
        if not rows:
            raise BackendError(f"link {link_id} of channel {channel_id} does not exist")
        return _link_data(rows[0])

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
                (_id(link_id), _id(channel_id)),
            ).fetchone()
            self._must_exist(0 if row is None else 1, "link", link_id)
            old_url = row[0]
            if tuple(row[1:]) == (title, ref, message):
                return Link(link_id, title, ref, message, old_url, seq=_id(link_id))
            if fold(title) != fold(row[1]):
                self._refuse_taken(db, channel_id, account, title)
            url = link_url(account, ref, message)
            db.execute(
                "UPDATE links SET title = ?, title_key = ?, ref = ?, message = ?, url = ?, "
                "updated_at = ? WHERE id = ?",
                (title, fold(title), ref, message, url, now, _id(link_id)),
            )
            event = "regenerated" if url != old_url else "renamed"
            self._record(db, _id(link_id), account, title, event, old_url, url, now)
        return Link(link_id, title, ref, message, url, seq=_id(link_id))

    def remove_link(self, channel_id: str, link_id: str) -> None:
        """Remove a link; its last URL is kept in the history."""
        now = self._now()
        with self._tx() as db:
            account = self._account(db, channel_id)
            row = db.execute(
                "SELECT title, url FROM links WHERE id = ? AND channel_id = ?",
                (_id(link_id), _id(channel_id)),
            ).fetchone()
            self._must_exist(0 if row is None else 1, "link", link_id)
            db.execute("DELETE FROM links WHERE id = ?", (_id(link_id),))
            self._record(db, _id(link_id), account, row[0], "removed", row[1], None, now)

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> str:
        return self._clock().isoformat(timespec="seconds")

    def _channel(self, channel_id: int | None) -> Channel:
        state = self.read()
        for channel in state.channels:
            if channel.id == str(channel_id):
                return channel
        raise BackendError(f"channel {channel_id} vanished from {self.description}")

    def _account(self, db: sqlite3.Connection, channel_id: str) -> str:
        row = db.execute("SELECT account FROM channels WHERE id = ?", (_id(channel_id),)).fetchone()
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
            (_id(channel_id), fold(title)),
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


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any. A failing rollback is left to SQLite, which
    rolls back on close or on the next open (the hot journal); the original error is what
    the caller reports."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _reason(exc: BaseException) -> str:
    """Why a store operation failed: the OS's words with the file they are about, or
    SQLite's message."""
    text = reason(exc)
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text += f": {exc.filename}"
    return text


def _id(ident: str) -> int:
    """A store id from its string form; an id this store can't have is a ``BackendError``."""
    try:
        return int(ident)
    except (TypeError, ValueError):
        raise BackendError(f"{ident!r} is not an id of a local workspace") from None


#: A channel's links as ``Link`` fields, in creation order.
_LINKS_OF_CHANNEL = (
    "SELECT CAST(id AS TEXT), title, ref, message, url, id FROM links "
    "WHERE channel_id = ? ORDER BY id"
)
_LINK_COLUMNS = "id, channel_id, title, ref, message, url, created_at, updated_at"


def _channel_data(row: tuple[Any, ...]) -> dict[str, Any]:
    cid, account, display_name, status = row
    return {"id": str(cid), "account": account, "display_name": display_name, "status": status}


def _link_data(row: tuple[Any, ...]) -> dict[str, Any]:
    link_id, channel_id, title, ref, message, url, created_at, updated_at = row
    return {
        "id": str(link_id),
        "channel_id": str(channel_id),
        "title": title,
        "ref": ref,
        "message": message,
        "url": url,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def _link_from_data(data: dict[str, Any]) -> Link:
    link_id = int(data["id"])
    return Link(str(link_id), data["title"], data["ref"], data["message"], data["url"], seq=link_id)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run ;-separated statements inside the current transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
