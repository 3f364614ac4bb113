"""Conditional writes and the workspace resource of the sandbox API (docs/api.md,
"Conditional writes", "Workspace"), over real HTTP to a real ``sandbox serve`` process:
ETags, 428 without If-Match, 400 for one that names no version, 412 with nothing changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.backends.local import LocalBackend
from tests.helpers import Sandbox, SandboxFactory
from tests.sandbox.test_server import KEY, LINKS, assert_problem, connect, create

CHANNEL = "/v1/tiktok/channels/1"


@pytest.fixture
def server(sandbox: SandboxFactory, tmp_path: Path) -> Sandbox:
    store = tmp_path / "ws.db"
    connect(store, "acmepets")
    return sandbox(store=store, api_key=KEY)


def _if_match(value: str) -> dict[str, str]:
    return {"If-Match": value}


def test_one_resource_answers_carry_its_version_as_a_strong_etag(server: Sandbox) -> None:
    with server.client() as client:
        created = create(client, "1", "k1", title="Bio", message="Hi")
        assert created.status_code == 201
        assert (created.json()["version"], created.headers["etag"]) == (1, '"1"')
        link = f"{LINKS.format(1)}/{created.json()['id']}"
        assert client.get(link).headers["etag"] == '"1"'
        edited = client.patch(link, json={"message": "Hello"}, headers=_if_match('"1"'))
        assert edited.status_code == 200
        assert (edited.json()["version"], edited.headers["etag"]) == (2, '"2"')
        assert client.get(link).headers["etag"] == '"2"'
        # the replay of the create answers what it answered then, ETag included
        replay = create(client, "1", "k1", title="Bio", message="Hi")
        assert (replay.json()["version"], replay.headers["etag"]) == (1, '"1"')

        channel = client.get(CHANNEL)
        assert (channel.json()["version"], channel.headers["etag"]) == (1, '"1"')  # its own
        renamed = client.patch(CHANNEL, json={"display_name": "Acme"}, headers=_if_match('"1"'))
        assert (renamed.json()["version"], renamed.headers["etag"]) == (2, '"2"')
        # lists carry versions in their items, and no ETag of their own
        listed = client.get(LINKS.format(1))
        assert "etag" not in listed.headers
        assert [lk["version"] for lk in listed.json()["data"]] == [2]
        assert client.get("/v1/tiktok/channels").json()["data"][0]["version"] == 2


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_a_write_without_if_match_is_a_428_and_changes_nothing(
    server: Sandbox, method: str
) -> None:
    with server.client() as client:
        link = f"{LINKS.format(1)}/{create(client, '1', 'k').json()['id']}"
        for path, body in ((CHANNEL, {"display_name": "New"}), (link, {"message": "New"})):
            response = client.request(method, path, json=body if method == "PATCH" else None)
            data = assert_problem(response, 428, "precondition-required")
            assert "If-Match" in data["detail"]
        assert client.get(CHANNEL).json()["display_name"] == "acmepets"
        assert client.get(link).json()["message"] == "Hello!"


@pytest.mark.parametrize(
    "value",
    ["*", 'W/"1"', '"1", "2"', "1", '"0"', '"01"', '"abc"', '""', '"1', '"' + "9" * 19 + '"'],
)
def test_an_if_match_that_names_no_one_version_is_a_400(server: Sandbox, value: str) -> None:
    with server.client() as client:
        link = f"{LINKS.format(1)}/{create(client, '1', 'k').json()['id']}"
        for method, path, body in (
            ("PATCH", CHANNEL, {"display_name": "New"}),
            ("DELETE", CHANNEL, None),
            ("PATCH", link, {"message": "New"}),
            ("DELETE", link, None),
        ):
            response = client.request(method, path, json=body, headers=_if_match(value))
            data = assert_problem(response, 400, "bad-request")
            assert "If-Match" in data["detail"]
        assert client.get(link).status_code == 200


def test_two_if_match_headers_are_a_400(server: Sandbox) -> None:
    with server.client() as client:
        response = client.patch(
            CHANNEL,
            json={"display_name": "New"},
            headers=[("If-Match", '"1"'), ("If-Match", '"1"')],
        )
        assert_problem(response, 400, "bad-request")


def test_a_write_over_another_version_is_a_412_and_changes_nothing(server: Sandbox) -> None:
    with server.client() as client:
        created = create(client, "1", "k", title="Bio", message="Hi").json()
        link = f"{LINKS.format(1)}/{created['id']}"
        assert client.patch(link, json={"message": "Moved"}, headers=_if_match('"1"')).is_success
        before = server.store.read_bytes()
        for method, path, body in (
            ("PATCH", link, {"message": "Mine"}),
            ("PATCH", link, {"message": "Moved"}),  # the values there, over a stale version
            ("DELETE", link, None),
        ):
            response = client.request(method, path, json=body, headers=_if_match('"1"'))
            data = assert_problem(response, 412, "precondition-failed")
            assert data["detail"] == "the resource is at version 2; If-Match names version 1"
        for method, body in (("PATCH", {"display_name": "New"}), ("DELETE", None)):
            response = client.request(method, CHANNEL, json=body, headers=_if_match('"5"'))
            data = assert_problem(response, 412, "precondition-failed")
            assert data["detail"] == "the resource is at version 1; If-Match names version 5"
        assert server.store.read_bytes() == before
        now = client.get(link).json()
        assert (now["message"], now["version"]) == ("Moved", 2)
        assert client.delete(link, headers=_if_match('"2"')).status_code == 204


def test_a_write_checks_if_match_after_its_body_and_before_the_work(server: Sandbox) -> None:
    with server.client() as client:
        bad_body = client.patch(CHANNEL, json={"display_name": " "})
        assert_problem(bad_body, 422, "validation")  # the body first: all its errors at once
        missing = client.patch("/v1/tiktok/channels/999", json={"display_name": "x"})
        assert_problem(missing, 428, "precondition-required")  # then If-Match, then the work
        gone = client.delete("/v1/tiktok/channels/999", headers=_if_match('"1"'))
        assert_problem(gone, 404, "not-found")


def test_get_workspace_answers_the_stores_id(server: Sandbox) -> None:
    with server.client() as client:
        response = client.get("/v1/workspace")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        data: dict[str, Any] = response.json()
        backend = LocalBackend(server.store)
        assert data == {"id": backend.workspace().id}
        backend.close()
        assert client.get("/v1/workspace").json() == data  # stable
        post = client.post("/v1/workspace", json={})
        assert_problem(post, 405, "method-not-allowed")
        assert post.headers["allow"] == "GET"
    with httpx.Client(base_url=server.url) as anonymous:
        assert_problem(anonymous.get("/v1/workspace"), 401, "unauthorized")


def test_the_workspace_of_a_store_without_an_id_gets_one(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    # A sandbox serving a store that doesn't exist yet: a SleekFlow workspace always has an id.
    store = tmp_path / "new.db"
    server = sandbox(store=store)
    with server.client() as client:
        ident = client.get("/v1/workspace").json()["id"]
        assert isinstance(ident, str) and len(ident) == 32
        assert client.get("/v1/workspace").json()["id"] == ident
    backend = LocalBackend(store)
    assert backend.workspace().id == ident
    backend.close()
