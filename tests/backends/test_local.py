"""The local workspace: a real SQLite file in tmp_path, never a mock of it."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from reconciler.backends import open_backend
from reconciler.backends.local import APPLICATION_ID, SCHEMA_VERSION, LocalBackend
from reconciler.errors import BackendError, StoreError
from reconciler.model import ChannelStatus, WorkspaceState, link_url

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ROOT_REASON = "running as root: file permissions don't stop root from writing"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "ws" / "workspace.db"


@pytest.fixture
def backend(store: Path) -> Iterator[LocalBackend]:
    b = LocalBackend(store)
    yield b
    b.close()


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file under a directory (or the one file) with its bytes: "nothing was written"."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def history(store: Path) -> list[tuple[str, str, str | None, str | None]]:
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT event, title, old_url, new_url FROM link_history ORDER BY id"
        ).fetchall()
    db.close()
    return rows


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


def test_open_backend_local_and_unknown(store: Path) -> None:
    b = open_backend("local", store=str(store))
    assert isinstance(b, LocalBackend)
    b.close()
    with pytest.raises(BackendError, match="unknown backend 'nope'"):
        open_backend("nope", store=str(store))


# --- ids, URLs, history -------------------------------------------------------------------


def test_ids_are_stable_across_reads_edits_and_reopening(
    store: Path, backend: LocalBackend
) -> None:
    channel = backend.connect_channel("acmepets", "Acme")
    a = backend.create_link(channel.id, title="A", ref=None, message="one", key="1")
    b = backend.create_link(channel.id, title="B", ref="r", message="two", key="2")
    edited = backend.update_link(channel.id, a.id, title="A", ref="new", message="uno")
    assert edited.id == a.id
    backend.remove_link(channel.id, b.id)
    c = backend.create_link(channel.id, title="C", ref=None, message="three", key="3")
    assert c.id not in (a.id, b.id)  # a removed link's id is never reused
    first = backend.read()
    backend.close()
    reopened = LocalBackend(store)
    assert reopened.read() == first == backend.read()
    reopened.close()
    links = first.channels[0].links
    assert [(lk.id, lk.title) for lk in links] == [(a.id, "A"), (c.id, "C")]
    assert [lk.seq for lk in links] == sorted(lk.seq for lk in links)
    assert first.channels[0].id == channel.id


@pytest.mark.parametrize(
    ("account", "ref", "message"),
    [
        ("acmepets", "summer2025", "Join our VIP program"),
        ("acmepets", None, "no ref here"),
        ("acme.pets_1", "a-b.c_d", "Hi! (it's 100% *real*) ~ ok? a+b=c & d/e #f"),
        ("acmepets", "bio_ja", "こんにちは！ペット用品について 🐶"),
        ("acmepets", "x", "line one\nline two\ttab"),
    ],
)
def test_urls_follow_the_rule(
    backend: LocalBackend, account: str, ref: str | None, message: str
) -> None:
    channel = backend.connect_channel(account, "Acme")
    link = backend.create_link(channel.id, title="T", ref=ref, message=message, key="k")
    assert link.url == link_url(account, ref, message)
    assert backend.read().channels[0].links[0].url == link.url
    parts = urlsplit(link.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "tiktok.me", f"/{account}")
    assert "+" not in parts.query
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert query.get("ref") == ref
    assert query["message"] == message
    assert list(query) == (["ref", "message"] if ref is not None else ["message"])


def test_urls_use_the_workspace_spelling_of_the_account(backend: LocalBackend) -> None:
    channel = backend.connect_channel("AcmePets", "Acme")
    link = backend.create_link(channel.id, title="T", ref=None, message="m", key="k")
    assert link.url == "https://tiktok.me/AcmePets?message=m"


def test_history_records_every_url_a_link_had(store: Path) -> None:
    clock_times = iter(datetime(2025, 6, 1, 12, 0, s, tzinfo=UTC) for s in range(60))
    b = LocalBackend(store, clock=lambda: next(clock_times))
    channel = b.connect_channel("AcmePets", "Acme")
    link = b.create_link(channel.id, title="VIP", ref="vip", message="one", key="k")
    url1 = link.url
    b.update_link(channel.id, link.id, title="VIP Program", ref="vip", message="one")
    regenerated = b.update_link(channel.id, link.id, title="VIP Program", ref="vip", message="two")
    url2 = regenerated.url
    assert url2 != url1
    b.remove_link(channel.id, link.id)
    other = b.create_link(channel.id, title="Other", ref=None, message="x", key="k2")
    b.remove_channel(channel.id)

    assert history(store) == [
        ("created", "VIP", None, url1),
        ("renamed", "VIP Program", url1, url1),
        ("regenerated", "VIP Program", url1, url2),
        ("removed", "VIP Program", url2, None),
        ("created", "Other", None, other.url),
        ("removed", "Other", other.url, None),
    ]
    # by account (any case), and by title ignoring case
    everything = b.history("acmepets")
    assert len(everything) == 6
    assert [h["at"] for h in everything] == [f"2025-06-01T12:00:{s:02d}+00:00" for s in range(6)]
    vip = b.history("ACMEPETS", "vip program")
    assert [(h["event"], h["old_url"], h["new_url"]) for h in vip] == [
        ("renamed", url1, url1),
        ("regenerated", url1, url2),
        ("removed", url2, None),
    ]
    assert b.history("someone-else") == []
    b.close()


# --- channels -----------------------------------------------------------------------------


def test_connecting_a_connected_channel_is_an_error(backend: LocalBackend) -> None:
    backend.connect_channel("acmepets", "Acme")
    before = backend.read()
    with pytest.raises(BackendError, match="acmepets is already connected"):
        backend.connect_channel("ACMEPETS", "Other name")
    assert backend.read() == before


def test_a_disconnected_channel_reconnects_with_its_id_and_links(backend: LocalBackend) -> None:
    channel = backend.connect_channel("acmepets", "Acme Pets (US)")
    link = backend.create_link(channel.id, title="Bio", ref="bio", message="Hi", key="k")
    down = backend.set_status("AcmePets", ChannelStatus.DISCONNECTED)
    assert down.status is ChannelStatus.DISCONNECTED
    assert backend.read().channels[0].status is ChannelStatus.DISCONNECTED

    up = backend.connect_channel("acmepets", None)
    assert (up.id, up.status, up.display_name) == (
        channel.id,
        ChannelStatus.CONNECTED,
        "Acme Pets (US)",  # None keeps the name it had
    )
    assert up.links == (link,)

    backend.set_status("acmepets", ChannelStatus.DISCONNECTED)
    renamed = backend.connect_channel("acmepets", "Acme Pets")
    assert renamed.display_name == "Acme Pets"


def test_a_new_channel_without_a_name_is_named_after_its_account(backend: LocalBackend) -> None:
    assert backend.connect_channel("acmepets", None).display_name == "acmepets"


def test_set_status_of_an_unknown_channel(store: Path, backend: LocalBackend) -> None:
    with pytest.raises(BackendError, match="no channel ghost"):
        backend.set_status("ghost", ChannelStatus.DISCONNECTED)
    assert not store.exists()  # not even created
    backend.connect_channel("acmepets", "Acme")
    with pytest.raises(BackendError, match="no channel ghost"):
        backend.set_status("ghost", ChannelStatus.DISCONNECTED)


def test_rename_and_remove_channel(backend: LocalBackend) -> None:
    channel = backend.connect_channel("acmepets", "Acme")
    backend.create_link(channel.id, title="Bio", ref=None, message="Hi", key="k")
    assert backend.rename_channel(channel.id, "Acme Pets").display_name == "Acme Pets"
    backend.remove_channel(channel.id)
    assert backend.read() == WorkspaceState()
    with sqlite3.connect(backend.path) as db:
        assert db.execute("SELECT count(*) FROM links").fetchone()[0] == 0
    db.close()


def test_writes_to_ids_that_do_not_exist(backend: LocalBackend) -> None:
    channel = backend.connect_channel("acmepets", "Acme")
    before = backend.read()
    for call in (
        lambda: backend.rename_channel("999", "x"),
        lambda: backend.remove_channel("999"),
        lambda: backend.create_link("999", title="t", ref=None, message="m", key="k"),
        lambda: backend.update_link(channel.id, "999", title="t", ref=None, message="m"),
        lambda: backend.remove_link(channel.id, "999"),
        lambda: backend.rename_channel("not-a-number", "x"),
    ):
        with pytest.raises(BackendError):
            call()
    assert backend.read() == before


# --- bad stores -----------------------------------------------------------------------------


def _every_operation(b: LocalBackend) -> list[object]:
    return [
        b.read,
        lambda: b.history("acmepets"),
        lambda: b.connect_channel("acmepets", "Acme"),
        lambda: b.set_status("acmepets", ChannelStatus.DISCONNECTED),
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
        lambda: b.rename_channel(channel.id, "New"),
        lambda: b.create_link(channel.id, title="New", ref=None, message="m", key="k"),
        lambda: b.update_link(channel.id, channel.links[0].id, title="B", ref=None, message="m"),
        lambda: b.remove_link(channel.id, channel.links[0].id),
        lambda: b.remove_channel(channel.id),
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
        lambda: b.update_link(channel.id, link.id, title="Bio", ref="bio", message="changed"),
        lambda: b.update_link(channel.id, link.id, title="Renamed", ref="bio", message="Hi"),
        lambda: b.remove_link(channel.id, link.id),
        lambda: b.remove_channel(channel.id),
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
    with pytest.raises(RuntimeError), b._tx() as db:  # the write helper every write uses
        db.execute("DELETE FROM links")
        raise RuntimeError("interrupted")
    assert b.read() == before
    b.close()


# --- idempotency, migration, pages (the API's view of the store) ---------------------------


def _one_channel(tmp_path: Path, **kwargs: object) -> tuple[LocalBackend, str]:
    b = LocalBackend(tmp_path / "workspace.db", **kwargs)  # type: ignore[arg-type]
    return b, b.connect_channel("acme", "Acme").id


def test_create_with_the_same_key_and_request_returns_the_first_link(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    first = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    again = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    assert again == first
    assert len(b.read().channels[0].links) == 1
    assert b.idempotent_response("key-1")["id"] == first.id


def test_create_with_a_reused_key_and_another_request_is_refused(tmp_path: Path) -> None:
    from reconciler.backends.local import IdempotencyMismatch

    b, cid = _one_channel(tmp_path)
    b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    with pytest.raises(IdempotencyMismatch, match="different request"):
        b.create_link(cid, title="Bio", ref="bio", message="Hello", key="key-1")
    assert len(b.read().channels[0].links) == 1


def test_idempotency_keys_expire_after_24_hours(tmp_path: Path) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    b, cid = _one_channel(tmp_path, clock=lambda: now[0])
    b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    now[0] = datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC)
    b.create_link(cid, title="Bio 2", ref="bio", message="Hi", key="key-1")
    assert [lk.title for lk in b.read().channels[0].links] == ["Bio", "Bio 2"]


def test_a_version_1_store_is_read_as_is_and_migrated_by_the_first_write(tmp_path: Path) -> None:
    from reconciler.backends import local_store

    path = tmp_path / "workspace.db"
    with sqlite3.connect(path) as db:
        db.executescript(local_store.SCHEMA)
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


def test_pages_of_channels_and_links_follow_ids(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    b.connect_channel("beta", "Beta")
    for i in range(5):
        b.create_link(cid, title=f"t{i}", ref=None, message=f"m{i}", key=f"k{i}")
    assert [c["account"] for c in b.page_channels(after=0, limit=1)] == ["acme"]
    assert [c["account"] for c in b.page_channels(after=int(cid), limit=10)] == ["beta"]
    first = b.page_links(cid, after=0, limit=2)
    assert [lk["title"] for lk in first] == ["t0", "t1"]
    rest = b.page_links(cid, after=int(first[-1]["id"]), limit=10)
    assert [lk["title"] for lk in rest] == ["t2", "t3", "t4"]
    assert set(rest[0]) == {
        "id",
        "channel_id",
        "title",
        "ref",
        "message",
        "url",
        "created_at",
        "updated_at",
    }
    with pytest.raises(BackendError, match="does not exist"):
        b.page_links("999", after=0, limit=10)
    with pytest.raises(BackendError, match="does not exist"):
        b.link_data(cid, "999")


def test_a_key_whose_link_was_removed_creates_the_link_again(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    first = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    b.remove_link(cid, first.id)
    again = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    assert again.id != first.id
    assert [lk.id for lk in b.read().channels[0].links] == [again.id]


def test_history_rows_name_the_link_across_renames_and_regenerations(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    link = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="k1")
    b.update_link(cid, link.id, title="Bio link", ref="bio", message="Hi")
    b.update_link(cid, link.id, title="Bio link", ref="bio", message="Hello")
    other = b.create_link(cid, title="Ad", ref="ad", message="Hi", key="k2")
    rows = b.history("ACME")
    assert [(r["link_id"], r["event"]) for r in rows] == [
        (link.id, "created"),
        (link.id, "renamed"),
        (link.id, "regenerated"),
        (other.id, "created"),
    ]


def test_an_update_to_the_same_values_writes_nothing(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    link = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="k1")
    again = b.update_link(cid, link.id, title="Bio", ref="bio", message="Hi")
    assert again == link
    assert [r["event"] for r in b.history("acme")] == ["created"]
