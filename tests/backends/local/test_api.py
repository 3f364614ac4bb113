"""The local store as the sandbox's API sees it: pages, single resources, and a channel's
status set from SleekFlow's side. A real SQLite file in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.errors import BackendError
from reconciler.model import ChannelStatus


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
