"""The local store as the sandbox's API sees it: pages, single resources, and a channel's
status set from SleekFlow's side. A real SQLite file in tmp_path."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.backends.local.shapes import encoded
from reconciler.errors import BackendError, StoreDamaged
from reconciler.model import ChannelStatus


def _data(page: list[tuple[int, bytes]]) -> list[dict[str, Any]]:
    """A page's rows as data, each checked to carry its own id."""
    rows = [json.loads(row) for _, row in page]
    assert [ident for ident, _ in page] == [int(row["id"]) for row in rows]
    return rows


def test_set_status_of_an_unknown_channel(store: Path, backend: LocalBackend) -> None:
    api = StoreApi(backend)
    with pytest.raises(BackendError, match="no channel ghost"):
        api.set_status("ghost", ChannelStatus.DISCONNECTED)
    assert not store.exists()  # not even created
    backend.connect_channel("acmepets", "Acme")
    with pytest.raises(BackendError, match="no channel ghost"):
        api.set_status("ghost", ChannelStatus.DISCONNECTED)


def test_pages_of_channels_and_links_follow_ids(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "workspace.db")
    cid = backend.connect_channel("acme", "Acme").id
    b = StoreApi(backend)
    backend.connect_channel("beta", "Beta")
    for i in range(5):
        backend.create_link(cid, title=f"t{i}", ref=None, message=f"m{i}", key=f"k{i}")
    assert [c["account"] for c in _data(b.page_channels(after=0, limit=1))] == ["acme"]
    assert [c["account"] for c in _data(b.page_channels(after=int(cid), limit=10))] == ["beta"]
    first = _data(b.page_links(cid, after=0, limit=2))
    assert [lk["title"] for lk in first] == ["t0", "t1"]
    rest = _data(b.page_links(cid, after=int(first[-1]["id"]), limit=10))
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
        "version",
    }
    with pytest.raises(BackendError, match="does not exist"):
        b.page_links("999", after=0, limit=10)
    with pytest.raises(BackendError, match="does not exist"):
        b.link_data(cid, "999")


def test_a_status_change_moves_the_channels_version_and_no_change_does_not(
    tmp_path: Path,
) -> None:
    backend = LocalBackend(tmp_path / "workspace.db")
    backend.connect_channel("acme", "Acme")
    api = StoreApi(backend)
    assert api.set_status("acme", ChannelStatus.DISCONNECTED).version == 2
    assert api.set_status("acme", ChannelStatus.DISCONNECTED).version == 2  # already so
    assert backend.connect_channel("acme", "Acme again").version == 3  # reconnected
    assert api.channel_data("1")["version"] == 3
    backend.close()


#: Every character there is, but the surrogates (which are not text).
EVERY_CHARACTER = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def test_a_page_row_is_the_resource_written_as_python_writes_it(tmp_path: Path) -> None:
    # The pages' JSON is written by SQLite, a single resource's by Python: the same bytes,
    # for every character a title, ref or message can hold.
    backend = LocalBackend(tmp_path / "workspace.db")
    cid = backend.connect_channel("acme", 'Acme \u2028\x7f"\\')
    for i, text in enumerate(["plain", '\x00\x1f"\\/\u2028\U0001f436', EVERY_CHARACTER]):
        backend.create_link(cid.id, title=f"t{i}", ref=None, message=f"m{i}", key=f"k{i}")
        with backend.store.transaction() as db:
            db.execute("UPDATE links SET title = ?, ref = ? WHERE id = ?", (text, text, i + 1))
    api = StoreApi(backend)
    page = api.page_links(cid.id, after=0, limit=10)
    assert [row for _, row in page] == [encoded(api.link_data(cid.id, str(i))) for i in (1, 2, 3)]
    [(_, channel)] = api.page_channels(after=0, limit=10)
    assert channel == encoded(api.channel_data(cid.id))


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("links", "title", b"A\xffB"),  # a BLOB
        ("links", "message", "CAST(X'41FF42' AS TEXT)"),  # text that is not UTF-8
        ("links", "ref", "CAST(X'EDA080' AS TEXT)"),  # a surrogate, UTF-8 encoded
        ("links", "version", 0),
        ("channels", "display_name", "CAST(X'FF' AS TEXT)"),
        ("channels", "account", b"acme"),
    ],
)
def test_a_page_holding_a_damaged_row_is_refused_naming_it(
    tmp_path: Path, table: str, column: str, value: object
) -> None:
    backend = LocalBackend(tmp_path / "workspace.db")
    cid = backend.connect_channel("acme", "Acme").id
    for i in range(3):
        backend.create_link(cid, title=f"t{i}", ref=None, message=f"m{i}", key=f"k{i}")
    backend.close()
    row = 2 if table == "links" else 1
    with sqlite3.connect(tmp_path / "workspace.db") as db:
        if isinstance(value, str):
            db.execute(f"UPDATE {table} SET {column} = {value} WHERE id = ?", (row,))
        else:
            db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row))
    api = StoreApi(LocalBackend(tmp_path / "workspace.db"))
    with pytest.raises(StoreDamaged, match=f"row {row} of table {table}") as caught:
        if table == "links":
            api.page_links(cid, after=0, limit=10)
        else:
            api.page_channels(after=0, limit=10)
    assert (caught.value.table, caught.value.row, caught.value.column) == (table, row, column)
