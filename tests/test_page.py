"""``reconciler.page``: the page of links as values (what ``render.html`` shows), built from
one snapshot of the workspace."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reconciler import links, page
from reconciler.backends.local import LocalBackend
from reconciler.model import WorkspaceState


class Reads(LocalBackend):
    """A local backend that counts its reads."""

    reads = 0

    def read(self) -> WorkspaceState:
        self.reads += 1
        return super().read()


def test_a_page_of_a_snapshot_marks_its_changes_without_reading_again(tmp_path: Path) -> None:
    backend = Reads(tmp_path / "ws.db")
    channel = backend.connect_channel("acmepets", "Acme Pets")
    vip = backend.create_link(channel.id, title="VIP", ref="vip", message="Join", key="k-1")
    new = backend.update_link(
        channel.id, vip.id, title="VIP", ref="vip", message="Join today", version=vip.version
    )
    state = backend.read()
    rows = links.select(state).rows
    window = page.window(None, datetime.now(UTC))

    built = page.of_workspace(backend, rows, window, state=state)

    assert backend.reads == 1  # the snapshot given, not a second read
    [shown] = built.links
    assert shown.row.url == new.url
    assert shown.change is not None and shown.change.old_url == vip.url
    # without a snapshot, the page reads the workspace itself, and says the same
    assert page.of_workspace(backend, rows, window) == built
    assert backend.reads == 2
    backend.close()
