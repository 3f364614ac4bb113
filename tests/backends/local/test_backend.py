"""The engine's backend over the local store: ids, URLs, history, channels, links and
idempotent creates. A real SQLite file in tmp_path, never a mock of it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from reconciler.backends import open_backend
from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.errors import BackendError, IdempotencyMismatch, StoreError
from reconciler.model import WorkspaceState, link_url


def history(store: Path) -> list[tuple[str, str, str | None, str | None]]:
    with sqlite3.connect(store) as db:
        rows = db.execute(
            "SELECT event, title, old_url, new_url FROM link_history ORDER BY id"
        ).fetchall()
    db.close()
    return rows


def test_open_backend_local_and_unknown(store: Path) -> None:
    with pytest.raises(StoreError, match=r"there is no local workspace at .*sandbox connect"):
        open_backend("local", store=str(store))
    assert not store.exists()  # nothing made on the spot
    LocalBackend(store).connect_channel("acmepets", "Acme")
    b = open_backend("local", store=str(store))
    assert isinstance(b, LocalBackend)
    b.close()
    with pytest.raises(BackendError, match="unknown backend 'nope'"):
        open_backend("nope", store=str(store))


@pytest.mark.parametrize("named", ["empty", "/dev/null"])
def test_an_empty_file_or_a_device_is_no_workspace(store: Path, named: str) -> None:
    """A 0-byte file (touched, truncated) or /dev/null as --store was an empty workspace:
    a plan of every declared channel connected and every link created, and apply made a
    store in it. It is refused as a missing store is, and nothing is written."""
    if named == "empty":
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_bytes(b"")
    where = str(store) if named == "empty" else named
    with pytest.raises(StoreError, match=r"is not a local workspace .*sandbox connect"):
        open_backend("local", store=where)
    if named == "empty":
        assert store.read_bytes() == b""


# --- ids, URLs, history -------------------------------------------------------------------


def test_ids_are_stable_across_reads_edits_and_reopening(
    store: Path, backend: LocalBackend
) -> None:
    channel = backend.connect_channel("acmepets", "Acme")
    a = backend.create_link(channel.id, title="A", ref=None, message="one", key="1")
    b = backend.create_link(channel.id, title="B", ref="r", message="two", key="2")
    edited = backend.update_link(channel.id, a.id, title="A", ref="new", message="uno", version=1)
    assert edited.id == a.id
    backend.remove_link(channel.id, b.id, version=1)
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
    b.update_link(channel.id, link.id, title="VIP Program", ref="vip", message="one", version=1)
    regenerated = b.update_link(
        channel.id, link.id, title="VIP Program", ref="vip", message="two", version=2
    )
    url2 = regenerated.url
    assert url2 != url1
    b.remove_link(channel.id, link.id, version=3)
    other = b.create_link(channel.id, title="Other", ref=None, message="x", key="k2")
    b.remove_channel(channel.id, version=1)

    assert history(store) == [
        ("created", "VIP", None, url1),
        ("renamed", "VIP Program", url1, url1),
        ("regenerated", "VIP Program", url1, url2),
        ("removed", "VIP Program", url2, None),
        ("created", "Other", None, other.url),
        ("removed", "Other", other.url, None),
    ]
    # by account (any case), and from a time on (inclusive)
    everything = b.history("acmepets")
    assert len(everything) == 6 and b.history() == everything
    assert [h.at for h in everything] == [f"2025-06-01T12:00:{s:02d}+00:00" for s in range(6)]
    later = b.history("ACMEPETS", since=datetime(2025, 6, 1, 12, 0, 1, tzinfo=UTC))
    assert [(h.event, h.old_url, h.new_url) for h in later[:3]] == [
        ("renamed", url1, url1),
        ("regenerated", url1, url2),
        ("removed", url2, None),
    ]
    assert len(later) == 5
    assert b.history("someone-else") == []
    b.close()


# --- channels -----------------------------------------------------------------------------


def test_connecting_a_connected_channel_is_an_error(backend: LocalBackend) -> None:
    backend.connect_channel("acmepets", "Acme")
    before = backend.read()
    with pytest.raises(BackendError, match="acmepets is already connected"):
        backend.connect_channel("ACMEPETS", "Other name")
    assert backend.read() == before


def test_rename_and_remove_channel(backend: LocalBackend) -> None:
    channel = backend.connect_channel("acmepets", "Acme")
    backend.create_link(channel.id, title="Bio", ref=None, message="Hi", key="k")
    renamed = backend.rename_channel(channel.id, "Acme Pets", version=1)
    assert (renamed.display_name, renamed.version, len(renamed.links)) == ("Acme Pets", 2, 1)
    backend.remove_channel(channel.id, version=2)
    assert backend.read() == WorkspaceState()
    with sqlite3.connect(backend.path) as db:
        assert db.execute("SELECT count(*) FROM links").fetchone()[0] == 0
    db.close()


def test_writes_to_ids_that_do_not_exist(backend: LocalBackend) -> None:
    channel = backend.connect_channel("acmepets", "Acme")
    before = backend.read()
    for call in (
        lambda: backend.rename_channel("999", "x", version=1),
        lambda: backend.remove_channel("999", version=1),
        lambda: backend.create_link("999", title="t", ref=None, message="m", key="k"),
        lambda: backend.update_link(channel.id, "999", title="t", ref=None, message="m", version=1),
        lambda: backend.remove_link(channel.id, "999", version=1),
        lambda: backend.rename_channel("not-a-number", "x", version=1),
    ):
        with pytest.raises(BackendError):
            call()
    assert backend.read() == before


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
    assert StoreApi(b).idempotent_response("key-1")["id"] == first.id


def test_create_with_a_reused_key_and_another_request_is_refused(tmp_path: Path) -> None:
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


def test_a_key_whose_link_was_removed_creates_the_link_again(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    first = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    b.remove_link(cid, first.id, version=first.version)
    again = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="key-1")
    assert again.id != first.id
    assert [lk.id for lk in b.read().channels[0].links] == [again.id]


def test_history_rows_name_the_link_across_renames_and_regenerations(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    link = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="k1")
    b.update_link(cid, link.id, title="Bio link", ref="bio", message="Hi", version=1)
    b.update_link(cid, link.id, title="Bio link", ref="bio", message="Hello", version=2)
    other = b.create_link(cid, title="Ad", ref="ad", message="Hi", key="k2")
    rows = b.history("ACME")
    assert [(r.link_id, r.event) for r in rows] == [
        (link.id, "created"),
        (link.id, "renamed"),
        (link.id, "regenerated"),
        (other.id, "created"),
    ]


def test_an_update_to_the_same_values_writes_nothing(tmp_path: Path) -> None:
    b, cid = _one_channel(tmp_path)
    link = b.create_link(cid, title="Bio", ref="bio", message="Hi", key="k1")
    again = b.update_link(cid, link.id, title="Bio", ref="bio", message="Hi", version=1)
    assert again == link and again.version == 1
    assert [r.event for r in b.history("acme")] == ["created"]
