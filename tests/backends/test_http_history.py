"""The http backend's URL history against a real sandbox: the same entries the local store
keeps (every channel's, one account's, from a time on), read page by page; odd answers are
backend errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.backends.http import HttpBackend
from reconciler.backends.http.client import RetryPolicy
from reconciler.backends.local import LocalBackend
from reconciler.errors import BackendError
from tests.helpers import SandboxFactory

FAST = RetryPolicy(attempts=2, deadline=5.0, wait_initial=0.001, wait_max=0.01)
MARCH = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_history_over_http_is_the_stores(sandbox: SandboxFactory, tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    now = [MARCH - timedelta(days=1)]
    local = LocalBackend(store, clock=lambda: now[0])
    acme = local.connect_channel("Acme", "Acme").id
    zoo = local.connect_channel("zoo", "Zoo").id
    made = [
        local.create_link(acme, title=f"L{i}", ref=None, message=f"m{i}", key=f"k{i}")
        for i in range(120)  # two pages of 100
    ]
    local.create_link(zoo, title="Z", ref=None, message="z", key="z")
    now[0] = MARCH + timedelta(minutes=1)
    local.update_link(acme, made[0].id, title="L0", ref="r", message="m0", version=1)
    local.remove_channel(zoo, version=1)
    server = sandbox(store=store)
    backend = HttpBackend(server.url, None, policy=FAST, concurrency=2)
    try:
        assert backend.history() == local.history()
        assert len(backend.history()) == 120 + 1 + 2
        assert backend.history("ACME") == local.history("acme")
        assert backend.history("zoo") == local.history("zoo")
        since = backend.history(since=MARCH)
        assert since == local.history(since=MARCH)
        assert [(e.channel, e.event) for e in since] == [
            ("acme", "regenerated"),
            ("zoo", "removed"),
        ]
        # a time without a zone is UTC, as on the local store
        assert backend.history(since=MARCH.replace(tzinfo=None)) == since
        assert backend.history("acme", since=MARCH + timedelta(hours=1)) == []
    finally:
        backend.close()
        local.close()


@pytest.mark.parametrize(
    "entry",
    [
        {"account": "acme"},
        {"account": "acme", "link_id": "1", "title": "T", "event": "exploded", "old_url": None,
         "new_url": "u", "at": "t"},
    ],
)  # fmt: skip
def test_an_entry_of_the_wrong_shape_is_a_backend_error(entry: dict[str, Any]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [entry], "next_cursor": None})

    backend = HttpBackend(
        "http://127.0.0.1:9", None, transport=httpx.MockTransport(answer), policy=FAST
    )
    with pytest.raises(BackendError, match="read the URL history: unexpected data"):
        backend.history()
    backend.close()
