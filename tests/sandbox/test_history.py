"""The URL history resource of the sandbox API (docs/api.md, ``GET
/v1/tiktok/message-link-history``) over real HTTP: every channel's or one account's, from a
time on, page by page, bad queries refused with a 400 naming the field. The store's history
is written with a clock the test sets, then served by a real ``sandbox serve`` process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.backends.local import LocalBackend
from tests.helpers import Sandbox, SandboxFactory

KEY = "history-test-key"
HISTORY = "/v1/tiktok/message-link-history"
PROBLEM = "https://reconciler.dev/problems/"
MARCH = datetime(2026, 3, 1, tzinfo=UTC)


def write_history(store: Path) -> None:
    """acme: three links made in February, one regenerated and one removed in March;
    gone: a channel with a link, removed in March (its history stays)."""
    now = [MARCH - timedelta(days=20)]
    backend = LocalBackend(store, clock=lambda: now[0])
    acme = backend.connect_channel("Acme", "Acme").id
    gone = backend.connect_channel("gone", "Gone").id
    links = [
        backend.create_link(acme, title=f"L{i}", ref=None, message=f"m{i}", key=f"k{i}")
        for i in range(3)
    ]
    backend.create_link(gone, title="G", ref=None, message="g", key="g")
    now[0] = MARCH + timedelta(hours=9)
    backend.update_link(acme, links[0].id, title="L0", ref="new", message="m0", version=1)
    backend.remove_link(acme, links[1].id, version=1)
    backend.remove_channel(gone, version=1)
    backend.close()


@pytest.fixture(scope="module")
def served(module_sandbox: SandboxFactory, tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    store = tmp_path_factory.mktemp("history") / "ws.db"
    write_history(store)
    return module_sandbox(store=store, api_key=KEY)


@pytest.fixture
def client(served: Sandbox) -> Iterator[httpx.Client]:
    with served.client() as c:
        yield c


def every_page(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = client.get(HISTORY, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"data", "next_cursor"}
        items += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_every_entry_oldest_first(client: httpx.Client) -> None:
    items = every_page(client)
    assert [(i["account"], i["title"], i["event"]) for i in items] == [
        ("acme", "L0", "created"),
        ("acme", "L1", "created"),
        ("acme", "L2", "created"),
        ("gone", "G", "created"),
        ("acme", "L0", "regenerated"),
        ("acme", "L1", "removed"),
        ("gone", "G", "removed"),
    ]
    regenerated = items[4]
    assert regenerated == {
        "id": regenerated["id"],
        "account": "acme",
        "link_id": items[0]["link_id"],
        "title": "L0",
        "event": "regenerated",
        "old_url": "https://tiktok.me/Acme?message=m0",
        "new_url": "https://tiktok.me/Acme?ref=new&message=m0",
        "at": "2026-03-01T09:00:00+00:00",
    }
    assert all(isinstance(i["id"], str) and isinstance(i["link_id"], str) for i in items)
    # page by page, the same entries
    assert every_page(client, limit=2) == items


def test_one_account_and_from_a_time_on(client: httpx.Client) -> None:
    acme = every_page(client, account="ACME")
    assert [i["title"] for i in acme] == ["L0", "L1", "L2", "L0", "L1"]
    # a removed channel's history is kept
    assert [i["event"] for i in every_page(client, account="gone")] == ["created", "removed"]
    assert every_page(client, account="never") == []
    since = every_page(client, since="2026-03-01T00:00:00Z")
    assert [i["event"] for i in since] == ["regenerated", "removed", "removed"]
    # the time of an entry counts (inclusive); an offset is honoured
    assert every_page(client, since="2026-03-01T11:00:00+02:00") == since
    assert every_page(client, since="2026-03-01T09:00:01Z") == []
    both = every_page(client, account="acme", since="2026-03-01T00:00:00.5z")
    assert [i["event"] for i in both] == ["regenerated", "removed"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-03-01"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-02-30T00:00:00Z"}, "since"),
        ({"since": "2026-03-01T00:00:00"}, "since"),
        ({"account": "bad account"}, "account"),
        ({"account": "x"}, "account"),
        ({"account": "ends."}, "account"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(
    client: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = client.get(HISTORY, params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    data = response.json()
    assert data["type"] == PROBLEM + "validation"
    assert [e["field"] for e in data["errors"]] == [field]


def test_paging_errors_are_the_lists_own(client: httpx.Client) -> None:
    assert client.get(HISTORY, params={"cursor": "nope"}).json()["type"] == PROBLEM + "bad-cursor"
    assert client.get(HISTORY, params={"limit": 0}).status_code == 400
    response = client.post(HISTORY, json={})
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert httpx.get(client.base_url.join(HISTORY)).status_code == 401
