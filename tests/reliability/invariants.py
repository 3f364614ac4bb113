"""What a workspace must hold whatever happened to it: a crash, a race, a flaky network.

``assert_sound(store)`` opens the SQLite file read-write (so a hot journal left by a killed
process is rolled back, as the next reconciler run would) and checks:

- ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
- every link's URL is the URL rule's for its account, ref and message;
- no channel has two links whose titles match ignoring case (no duplicate);
- the history agrees with the links: each link has exactly one ``created`` row, its last row
  names its current URL, and no link that exists has a ``removed`` row as its last.

It returns the workspace as ``LocalBackend`` reads it.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

from reconciler.backends.local import LocalBackend
from reconciler.model import WorkspaceState, fold, link_url


def assert_sound(store: Path) -> WorkspaceState:
    db = sqlite3.connect(store, timeout=30)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        history: dict[int, list[tuple[str, str | None]]] = {}
        for link_id, event, new_url in db.execute(
            "SELECT link_id, event, new_url FROM link_history ORDER BY id"
        ):
            history.setdefault(link_id, []).append((event, new_url))
    finally:
        db.close()
    backend = LocalBackend(store)
    try:
        state = backend.read()
    finally:
        backend.close()
    for channel in state.channels:
        titles = Counter(fold(link.title) for link in channel.links)
        doubles = [title for title, n in titles.items() if n > 1]
        assert not doubles, f"{channel.account}: duplicate titles {doubles}"
        for link in channel.links:
            assert link.url == link_url(channel.account, link.ref, link.message), link
            rows = history.get(int(link.id), [])
            assert [event for event, _ in rows].count("created") == 1, (link, rows)
            assert rows[-1][0] != "removed", (link, rows)
            assert rows[-1][1] == link.url, (link, rows)
    return state


def link_set(state: WorkspaceState, account: str) -> list[tuple[str, str | None, str]]:
    """The (title, ref, message) of every link of ``account``, sorted."""
    channel = state.channel(account)
    assert channel is not None, f"no channel {account}"
    return sorted((link.title, link.ref, link.message) for link in channel.links)
