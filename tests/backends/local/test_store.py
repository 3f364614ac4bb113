"""The local store's file: creating it, refusing what isn't one, migrations and transactions.
A real SQLite file in tmp_path, never a mock of it."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from reconciler.backends.local import APPLICATION_ID, SCHEMA_VERSION, LocalBackend, schema
from reconciler.backends.local.api import StoreApi
from reconciler.errors import StoreError
from reconciler.model import ChannelStatus, WorkspaceState

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_REASON = "running as root: file permissions don't stop root from writing"


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under a directory (or the one file) with its bytes: "nothing was written"."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


# --- creation -----------------------------------------------------------------------------


def test_read_of_a_missing_store_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "workspace.db"
    b = LocalBackend(path)
    assert b.read() == WorkspaceState()
    assert b.history("acmepets") == []
    b.close()
    assert not path.exists()
    assert not (tmp_path / "not").exists()


def test_first_write_creates_the_store_and_its_directory(store: Path) -> None:
    b = LocalBackend(store)
    channel = b.connect_channel("acmepets", "Acme Pets (US)")
    b.close()
    assert store.is_file()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    again = LocalBackend(store)
    state = again.read()
    again.close()
    assert [(c.id, c.account, c.display_name, c.status) for c in state.channels] == [
        (channel.id, "acmepets", "Acme Pets (US)", ChannelStatus.CONNECTED)
    ]


def test_an_empty_file_is_an_empty_store_until_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    path.touch()
    b = LocalBackend(path)
    assert b.read() == WorkspaceState()
    assert path.read_bytes() == b""
    b.connect_channel("acmepets", "Acme")
    assert [c.account for c in b.read().channels] == ["acmepets"]
    b.close()


def test_a_backend_sees_what_another_wrote_to_a_store_it_saw_empty(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    path.touch()
    watcher = LocalBackend(path)
    assert watcher.read() == WorkspaceState()
    writer = LocalBackend(path)
    writer.connect_channel("acmepets", "Acme")
    writer.close()
    assert [c.account for c in watcher.read().channels] == ["acmepets"]
    watcher.close()


def test_two_backends_creating_one_store_both_succeed(store: Path) -> None:
    first, second = LocalBackend(store), LocalBackend(store)
    assert first.read() == second.read() == WorkspaceState()
    first.connect_channel("one", "One")
    second.connect_channel("two", "Two")
    assert [c.account for c in first.read().channels] == ["one", "two"]
    first.close()
    second.close()


def test_a_connection_can_be_injected() -> None:
    b = LocalBackend(connection=sqlite3.connect(":memory:"))
    channel = b.connect_channel("acmepets", "Acme")
    b.create_link(channel.id, title="Bio", ref="bio", message="Hi", key="k")
    assert [lk.title for lk in b.read().channels[0].links] == ["Bio"]
    b.close()


# --- bad stores -----------------------------------------------------------------------------


def _every_operation(b: LocalBackend) -> list[object]:
    return [
        b.read,
        lambda: b.history("acmepets"),
        lambda: b.connect_channel("acmepets", "Acme"),
        lambda: StoreApi(b).set_status("acmepets", ChannelStatus.DISCONNECTED),
    ]


def _assert_refused(path: Path, match: str, watch: Path) -> None:
    before = snapshot(watch)
    b = LocalBackend(path)
    for operation in _every_operation(b):
        with pytest.raises(StoreError, match=match) as info:
            operation()  # type: ignore[operator]
        assert str(path) in str(info.value)
        assert "Traceback" not in str(info.value)
    b.close()
    assert snapshot(watch) == before


def test_a_corrupt_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    path.write_bytes(os.urandom(8192))
    _assert_refused(path, "is not a reconciler store", tmp_path)


def test_a_sqlite_file_with_a_damaged_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    path.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    _assert_refused(path, "not a reconciler store", tmp_path)


def test_a_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('mine')")
    db.close()
    _assert_refused(path, "another program, not a reconciler store", tmp_path)


def test_a_foreign_empty_database_with_a_user_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 7")
    db.close()
    _assert_refused(path, "another program", tmp_path)


def test_a_newer_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    b = LocalBackend(path)
    b.connect_channel("other", "Other")
    b.close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    _assert_refused(path, f"schema version {SCHEMA_VERSION + 1}, newer than", tmp_path)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    path.mkdir()
    _assert_refused(path, "is a directory", tmp_path)


def test_a_store_under_a_regular_file_cannot_be_created(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    path = afile / "workspace.db"
    b = LocalBackend(path)
    assert b.read() == WorkspaceState()  # nothing there to read
    with pytest.raises(StoreError, match="afile is not a directory") as info:
        b.connect_channel("acmepets", "Acme")
    assert str(path) in str(info.value)
    deeper = LocalBackend(afile / "sub" / "workspace.db")
    with pytest.raises(StoreError, match="is not a directory"):
        deeper.connect_channel("acmepets", "Acme")
    assert afile.read_text() == "not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.skipif(AS_ROOT, reason=ROOT_REASON)
def test_a_store_in_a_read_only_directory_cannot_be_created(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        b = LocalBackend(locked / "workspace.db")
        with pytest.raises(StoreError, match="locked is not writable"):
            b.connect_channel("acmepets", "Acme")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def _store_with_a_link(path: Path) -> None:
    b = LocalBackend(path)
    channel = b.connect_channel("acmepets", "Acme")
    b.create_link(channel.id, title="Bio", ref="bio", message="Hi", key="k")
    b.close()


@pytest.mark.skipif(AS_ROOT, reason=ROOT_REASON)
def test_a_read_only_store_file_reads_but_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _store_with_a_link(path)
    path.chmod(0o444)
    before = snapshot(tmp_path)
    b = LocalBackend(path)
    assert [c.account for c in b.read().channels] == ["acmepets"]
    with pytest.raises(StoreError, match=r"cannot write store .*readonly"):
        b.connect_channel("other", "Other")
    b.close()
    assert snapshot(tmp_path) == before


def test_a_read_only_connection_reads_but_refuses_writes(tmp_path: Path) -> None:
    # The same failure as a read-only file, which works even as root: SQLite opened read-only.
    path = tmp_path / "workspace.db"
    _store_with_a_link(path)
    before = snapshot(tmp_path)
    b = LocalBackend(path, connection=sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    state = b.read()
    channel = state.channels[0]
    for write in (
        lambda: b.connect_channel("other", "Other"),
        lambda: b.rename_channel(channel.id, "New", version=1),
        lambda: b.create_link(channel.id, title="New", ref=None, message="m", key="k"),
        lambda: b.update_link(
            channel.id, channel.links[0].id, title="B", ref=None, message="m", version=1
        ),
        lambda: b.remove_link(channel.id, channel.links[0].id, version=1),
        lambda: b.remove_channel(channel.id, version=1),
    ):
        with pytest.raises(StoreError, match=r"cannot write store .*readonly"):
            write()
    assert b.read() == state
    b.close()
    assert snapshot(tmp_path) == before


def test_a_locked_store_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _store_with_a_link(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        b = LocalBackend(path, connection=sqlite3.connect(path, timeout=0.05))
        with pytest.raises(StoreError, match="database is locked"):
            b.connect_channel("other", "Other")
        b.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --- transactions ---------------------------------------------------------------------------


def _fail_history_inserts(path: Path) -> None:
    """A trigger that makes the last statement of every link write fail, after the first."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON link_history "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    db.close()


def test_a_failing_write_leaves_nothing_half_done(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _store_with_a_link(path)
    _fail_history_inserts(path)
    b = LocalBackend(path)
    before = b.read()
    channel = before.channels[0]
    link = channel.links[0]
    for write in (
        lambda: b.create_link(channel.id, title="New", ref=None, message="m", key="another-key"),
        lambda: b.update_link(
            channel.id, link.id, title="Bio", ref="bio", message="changed", version=1
        ),
        lambda: b.update_link(
            channel.id, link.id, title="Renamed", ref="bio", message="Hi", version=1
        ),
        lambda: b.remove_link(channel.id, link.id, version=1),
        lambda: b.remove_channel(channel.id, version=1),
    ):
        with pytest.raises(StoreError, match=r"cannot write store .*boom"):
            write()
        assert b.read() == before
    b.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM link_history").fetchone()[0] == 1
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_a_non_sqlite_error_inside_a_write_rolls_it_back(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    _store_with_a_link(path)
    b = LocalBackend(path)
    before = b.read()
    with pytest.raises(RuntimeError), b.store.transaction() as db:  # what every write uses
        db.execute("DELETE FROM links")
        raise RuntimeError("interrupted")
    assert b.read() == before
    b.close()


def test_a_version_1_store_is_read_as_is_and_migrated_by_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "workspace.db"
    with sqlite3.connect(path) as db:
        db.executescript(schema.SCHEMA)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO channels (account, account_key, display_name, status) "
            "VALUES ('acme', 'acme', 'Acme', 'connected')"
        )
    db.close()
    b = LocalBackend(path)
    assert [c.account for c in b.read().channels] == ["acme"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1  # reading wrote nothing
    db.close()
    b.create_link("1", title="Bio", ref=None, message="Hi", key="k")
    b.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM idempotency").fetchone()[0] == 1
    db.close()
    # migrated all the way: versions and the workspace id came with it
    b = LocalBackend(path)
    assert b.read().channels[0].version == 1 and b.workspace().id is not None
    b.close()


def _version_3_store(path: Path) -> None:
    """A store as reconciler made them before versions (schema 3): one channel, two links."""
    with sqlite3.connect(path) as db:
        db.create_function("reconciler_fold", 1, str.casefold)
        db.executescript(schema.SCHEMA + schema.MIGRATIONS[1] + schema.MIGRATIONS[2])
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 3")
        db.execute(
            "INSERT INTO channels (account, account_key, display_name, status) "
            "VALUES ('acme', 'acme', 'Acme', 'connected')"
        )
        for title, message in (("Bio", "Hi"), ("Ad", "Sale")):
            db.execute(
                "INSERT INTO links (channel_id, title, title_key, ref, message, url, created_at, "
                "updated_at) VALUES (1, ?, ?, NULL, ?, ?, 't', 't')",
                (title, title.casefold(), message, f"https://tiktok.me/acme?message={message}"),
            )
    db.close()


def test_a_version_3_store_reads_as_version_1_and_gets_versions_and_an_id_on_first_write(
    tmp_path: Path,
) -> None:
    path = tmp_path / "workspace.db"
    _version_3_store(path)
    before = path.read_bytes()
    b = LocalBackend(path)
    state = b.read()
    (channel,) = state.channels
    assert channel.version == 1 and [(lk.title, lk.version) for lk in channel.links] == [
        ("Bio", 1),
        ("Ad", 1),
    ]
    assert b.workspace().id is None  # none yet, and asking made none
    page = StoreApi(b).page_links("1", after=0, limit=10)
    assert [json.loads(lk)["version"] for _, lk in page] == [1, 1]
    assert StoreApi(b).channel_data("1")["version"] == 1
    assert path.read_bytes() == before  # reading wrote nothing

    watcher = LocalBackend(path)  # opened on the old schema; another process migrates it
    assert watcher.read() == state
    bio = channel.links[0]
    edited = b.update_link("1", bio.id, title="Bio", ref=None, message="Hello", version=1)
    assert edited.version == 2
    ident = b.workspace().id
    assert ident is not None and len(ident) == 32
    b.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT title, version FROM links ORDER BY id").fetchall() == [
            ("Bio", 2),
            ("Ad", 1),
        ]
        assert db.execute("SELECT version FROM channels").fetchall() == [(1,)]
    db.close()
    assert [lk.version for lk in watcher.read().channels[0].links] == [2, 1]
    assert watcher.workspace().id == ident
    watcher.close()


def test_every_new_store_gets_its_own_id(tmp_path: Path) -> None:
    ids = set()
    for name in ("a.db", "b.db"):
        b = LocalBackend(tmp_path / name)
        b.connect_channel("acme", "Acme")
        ids.add(b.workspace().id)
        b.close()
    memory = LocalBackend(connection=sqlite3.connect(":memory:"))
    ids.add(memory.workspace().id)
    memory.close()
    assert len(ids) == 3 and None not in ids
