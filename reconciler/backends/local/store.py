"""The SQLite file of the local workspace: opening it, the checks that it is a store this
version reads, its migrations (``schema``) run by the first write, and the transactions every
read and write of ``LocalBackend`` and ``StoreApi`` runs in.

The file carries an application id and a schema version; a foreign, corrupt or newer file is
refused before anything is written. An older one is read as it is and migrated by the first
write, inside that write's transaction. Every SQLite failure becomes a ``StoreError`` here.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reconciler.backends.local.schema import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    VERSIONED,
)
from reconciler.errors import StoreError
from reconciler.files import reason
from reconciler.model import fold

DEFAULT_STORE = ".reconciler/workspace.db"


class Store:
    """A reconciler store in a SQLite file at ``path`` (created on the first write), or in a
    connection given by the caller (tests: ``sqlite3.connect(":memory:")``), which is given
    the schema at once. ``wal``: the first write puts the file in WAL mode (readers never
    wait for a writer; commits are durable against a crash of the process, not of the
    machine), as the sandbox serving it to many connections does; ``end_wal`` takes it back
    out. Reading alone writes nothing, in either mode."""

    def __init__(
        self,
        path: str | Path,
        *,
        connection: sqlite3.Connection | None = None,
        wal: bool = False,
    ) -> None:
        self.path = Path(path)
        self._db = connection
        self._wal = wal
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
            blank = _is_blank(db)
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

    def _initialise(self, db: sqlite3.Connection) -> None:
        """Give a blank database the schema, in one transaction."""
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write store {self.path}: {_reason(exc)}") from exc
        try:
            # Another process may have initialised the store while this one waited for the
            # write lock: check again under it.
            if _is_blank(db):
                _run_script(db, SCHEMA)
                for version in range(1, SCHEMA_VERSION):
                    _run_script(db, MIGRATIONS[version])
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            _rollback(db)
            raise StoreError(f"cannot write store {self.path}: {_reason(exc)}") from exc
        self._prepare(db, create=False)
        if not self._ready:
            raise StoreError(f"cannot initialise store {self.path}")

    def close(self) -> None:
        """Close the connection (a later call opens it again)."""
        self._ready = False
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``) on the store, created if need be and
        migrated first; it commits when the block ends, and rolls back on any exception. A
        SQLite failure becomes a ``StoreError``."""
        db = self._connection(create=True)
        assert db is not None
        if self._wal:
            self._wal = False  # once a connection: the mode is the file's
            _enter_wal(db)
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
            _run_script(db, MIGRATIONS[version])
            version += 1
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._version = SCHEMA_VERSION

    @property
    def versioned(self) -> bool:
        """Whether the store has versions and an id (``schema.VERSIONED``): an older one is
        read with every version 1, and has no id until its first write. An older one is asked
        again each time: another connection (a server's other thread) may have migrated it."""
        if self._version < VERSIONED and self._db is not None and self._ready:
            with contextlib.suppress(sqlite3.Error):
                self._version = self._db.execute("PRAGMA user_version").fetchone()[0]
        return self._version >= VERSIONED

    def workspace_id(self) -> str | None:
        """The workspace's id; None when the store doesn't exist, or is older than ids (its
        first write migrates it and makes one). Nothing is created."""
        with self.snapshot() as db:
            if db is None or not self.versioned:
                return None
            row = db.execute("SELECT id FROM workspace").fetchone()
        return None if row is None else str(row[0])

    def exists(self) -> bool:
        """Whether there is a store to read (checked, opened; nothing is created)."""
        return self._reader() is not None

    def _reader(self) -> sqlite3.Connection | None:
        """The connection to read from; None when there is no store to read (yet): reading
        creates nothing."""
        db = self._connection(create=False)
        return db if db is not None and self._ready else None

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection | None]:
        """One read transaction: what is read inside is one state of the store, even while
        another process writes. Yields None when there is no store yet (nothing is created);
        a SQLite failure becomes a ``StoreError``."""
        db = self._reader()
        if db is None:
            yield None
            return
        try:
            db.execute("BEGIN")
            try:
                # Another process may have migrated the store since it was opened here.
                self._version = db.execute("PRAGMA user_version").fetchone()[0]
                yield db
            finally:
                _rollback(db)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read query; none when there is no store yet."""
        db = self._reader()
        if db is None:
            return []
        try:
            return db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read store {self.path}: {_reason(exc)}") from exc


def _is_blank(db: sqlite3.Connection) -> bool:
    """An empty database (a new or 0-byte file): no tables, no ids, nothing to lose."""
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    return bool(tables == 0 and app_id == 0 and version == 0)


def _enter_wal(db: sqlite3.Connection) -> None:
    """Put the store in WAL mode (it stays so until ``end_wal``), this connection's commits
    synced at checkpoints. Only an optimisation: a store that can't be (a read-only medium,
    another connection in the way) is used as it is."""
    with contextlib.suppress(sqlite3.Error):
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")


def end_wal(path: Path) -> None:
    """Take the store at ``path`` out of WAL mode, if it is in it: the log is written into the
    file and removed, and the file is as the local backend leaves it. Left as it is (still a
    sound store, in WAL mode) while another connection has it open."""
    if not path.is_file():
        return
    with (
        contextlib.suppress(sqlite3.Error),
        contextlib.closing(sqlite3.connect(path, timeout=1.0, isolation_level=None)) as db,
    ):
        if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            db.execute("PRAGMA journal_mode = DELETE")


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


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run ;-separated statements inside the current transaction (executescript would commit)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
