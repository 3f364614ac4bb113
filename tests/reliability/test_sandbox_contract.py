"""The sandbox holds to docs/api.md against a hostile client (issue 17, findings 7, 8, 9), on
real ``sandbox serve`` processes:

- **host**: a keyless sandbox answers only requests for a loopback name; a web page that
  rebinds its name to 127.0.0.1 (``Host: evil.example:PORT``) gets a 421 for every method,
  DELETE included, and changes nothing; no Host, or two, is a 400;
- **header-lines**: a header line with whitespace before its colon (``Transfer-Encoding :
  chunked``, ``Content-Length : N``), folded onto the next line or holding a bare CR is a 400
  (RFC 9112 sections 5 and 2.2), and what followed it is never read as a second request;
- **cursors**: a cursor the server did not issue for that very list (written by hand,
  edited, with non-ASCII digits, of another list, of another server) is a 400 ``bad-cursor``,
  and the ones it issues still walk every page;
- **json**: a body with a key given twice, or NaN / Infinity, is a 400 ``bad-json``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from reconciler.backends.local import LocalBackend
from tests.helpers import Sandbox, SandboxFactory, raw_request
from tests.reliability.figures import record

PROBLEM = "https://reconciler.dev/problems/"
LINKS = "/v1/tiktok/channels/{}/message-links"


def seeded(store: Path, links: int = 0) -> None:
    """Two channels; the first with ``links`` links."""
    backend = LocalBackend(store)
    first = backend.connect_channel("acmepets", "Acme")
    backend.connect_channel("acmepets.global", "Global")
    for n in range(links):
        backend.create_link(first.id, title=f"L{n}", ref=None, message="m", key=f"k{n}")
    backend.close()


def kind(body: bytes) -> str:
    return str(json.loads(body)["type"]).removeprefix(PROBLEM)


def channels(server: Sandbox) -> list[str]:
    with server.client() as client:
        return [c["account"] for c in client.get("/v1/tiktok/channels").json()["data"]]


@pytest.fixture
def keyless(sandbox: SandboxFactory, tmp_path: Path) -> Sandbox:
    seeded(tmp_path / "ws.db", links=3)
    return sandbox()


# --- host -------------------------------------------------------------------------------------

EVIL_HOSTS = ["evil.example:{port}", "evil.example", "127.0.0.1.evil.example:{port}",
              "localhost.evil.example", "[::2]:{port}", "10.0.0.1:{port}", "0.0.0.0:{port}",
              "127.0.0.1:{port}@evil.example", "", "127.0.0.1:{port} x"]  # fmt: skip
GOOD_HOSTS = ["127.0.0.1:{port}", "127.0.0.1", "localhost:{port}", "LOCALHOST", "[::1]:{port}",
              "127.1.2.3:{port}"]  # fmt: skip
REQUESTS = {
    "GET": "GET /v1/tiktok/channels HTTP/1.1\r\n",
    "POST": "POST /v1/tiktok/channels/1/message-links HTTP/1.1\r\nContent-Type: application/json"
    "\r\nIdempotency-Key: k-evil\r\nContent-Length: 28\r\n",
    "PATCH": 'PATCH /v1/tiktok/channels/1 HTTP/1.1\r\nIf-Match: "1"\r\nContent-Type: '
    "application/json\r\nContent-Length: 24\r\n",
    "DELETE": 'DELETE /v1/tiktok/channels/2 HTTP/1.1\r\nIf-Match: "1"\r\n',
}
BODIES = {"POST": '{"title":"x","message":"y"}', "PATCH": '{"display_name":"Evil"}'}


def request(server: Sandbox, method: str, host: str | None, *extra: str) -> tuple[int, bytes]:
    port = server.url.rsplit(":", 1)[1]
    head = REQUESTS[method] + "".join(extra)
    if host is not None:
        head += f"Host: {host.format(port=port)}\r\n"
    data = (head + "Connection: close\r\n\r\n" + BODIES.get(method, "")).encode()
    status, _, body = raw_request(server, data)
    return status, body


def test_a_rebound_name_gets_a_421_for_every_method(keyless: Sandbox) -> None:
    for method in REQUESTS:
        for host in EVIL_HOSTS:
            status, body = request(keyless, method, host)
            assert status in (400, 421), (method, host, status)
            assert kind(body) in ("misdirected-request", "bad-request")
            record("sandbox contract", host_requests=1)
        for hosts in ([], ["127.0.0.1", "evil.example"]):
            status, body = request(keyless, method, None, *(f"Host: {h}\r\n" for h in hosts))
            assert status == 400 and kind(body) == "bad-request"
            record("sandbox contract", host_requests=1)
    assert channels(keyless) == ["acmepets", "acmepets.global"]
    with keyless.client() as client:
        assert client.get("/v1/tiktok/channels/1").json()["display_name"] == "Acme"
        assert len(client.get(LINKS.format(1)).json()["data"]) == 3


def test_loopback_names_are_answered(keyless: Sandbox) -> None:
    for host in GOOD_HOSTS:
        status, body = request(keyless, "GET", host)
        assert status == 200, (host, body)
        record("sandbox contract", host_requests=1)


def test_a_keyed_sandbox_leaves_the_host_to_its_key(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    seeded(tmp_path / "ws.db")
    keyed = sandbox(api_key="contract-key")
    status, _ = request(keyed, "GET", "evil.example", "X-Sleekflow-Api-Key: contract-key\r\n")
    assert status == 200
    status, _ = request(keyed, "DELETE", "evil.example")
    assert status == 401
    record("sandbox contract", host_requests=2)


# --- header-lines -----------------------------------------------------------------------------

SMUGGLED = b'DELETE /v1/tiktok/channels/2 HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-Match: "1"\r\n\r\n'
BAD_LINES = [
    b"Transfer-Encoding : chunked\r\n",
    b"Transfer-Encoding\t: chunked\r\n",
    b"Content-Length : 0\r\n",
    b"Content-Length  : 0\r\n",
    b"X-Anything : 1\r\n",
    b" Content-Length: 0\r\n",
    b"X-Folded: a\r\n b\r\n",
    b"Content-Length: 0\r\n\tContent-Length: 5\r\n",
    # a bare CR, which the standard library's reader takes as a line break and RFC 9112
    # section 2.2 as no line break at all: a proxy would see no Content-Length
    b"X-A: a\rContent-Length: 5\r\n",
    b"X-A: a\rTransfer-Encoding: chunked\r\n",
]


@pytest.mark.parametrize("line", BAD_LINES, ids=lambda b: b.decode().strip())
def test_a_header_line_that_is_not_name_colon_value_is_a_400(keyless: Sandbox, line: bytes) -> None:
    head = b"POST /v1/tiktok/channels/1/message-links HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    # the bad line first: a server that drops it and every header after it reads the rest
    # (and the next request) as the body or as a request of its own
    data = head + line + b"Content-Type: application/json\r\nIdempotency-Key: k-s\r\n\r\n"
    status, headers, body = raw_request(keyless, data + b"0\r\n\r\n" + SMUGGLED)
    assert status == 400 and kind(body) == "bad-request", (status, body)
    assert headers.get("connection") == "close"
    assert channels(keyless) == ["acmepets", "acmepets.global"]  # the DELETE never ran
    record("sandbox contract", header_lines=1)


# --- cursors ----------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def status_of(server: Sandbox, path: str, cursor: str) -> tuple[int, str]:
    with server.client() as client:
        response = client.get(path, params={"limit": 1, "cursor": cursor})
    kind = str(response.json().get("type", "")).removeprefix(PROBLEM)
    return response.status_code, kind


def test_only_a_cursor_this_server_issued_for_this_list_is_taken(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    seeded(tmp_path / "ws.db", links=5)
    server = sandbox()
    other = sandbox()
    with server.client() as client:
        issued = client.get(LINKS.format(1), params={"limit": 2}).json()["next_cursor"]
        channel_cursor = client.get("/v1/tiktok/channels", params={"limit": 1}).json()[
            "next_cursor"
        ]
    with other.client() as client:
        foreign = client.get(LINKS.format(1), params={"limit": 2}).json()["next_cursor"]
    assert issued and channel_cursor and foreign and foreign != issued
    digits, mac = issued.split(".", 1)
    forged = [
        b64("after:3"), b64("after:\u0663"), "after:3", "3", "\u0663", "", " " + issued,
        issued + "=", issued.upper(), f"{int(digits) + 1}.{mac}", f"\u0663.{mac}",
        f"{digits}.{mac[:-1]}A" if mac[-1] != "A" else f"{digits}.{mac[:-1]}B", digits,
        f"0{digits}.{mac}", "9" * 5000, foreign, channel_cursor,
    ]  # fmt: skip
    for cursor in forged:
        assert status_of(server, LINKS.format(1), cursor) == (400, "bad-cursor"), cursor
        record("sandbox contract", cursors=1)
    # a cursor of one list on another list, and on another channel's links
    for path in ("/v1/tiktok/channels", LINKS.format(2)):
        assert status_of(server, path, issued) == (400, "bad-cursor")
        record("sandbox contract", cursors=1)
    # the issued ones walk the whole list, in order
    titles, cursor = [], None
    with server.client() as client:
        while True:
            params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get(LINKS.format(1), params=params).json()
            titles += [lk["title"] for lk in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        for limit in ("\u0665", "+5", " 5", "5.0", "05a"):
            response = client.get(LINKS.format(1), params={"limit": limit})
            assert response.status_code == 400, limit
            record("sandbox contract", cursors=1)
    assert titles == [f"L{n}" for n in range(5)]


# --- json -------------------------------------------------------------------------------------

NOT_JSON = [
    '{"title": "a", "title": "b", "message": "m"}',
    '{"title": "a", "message": "m", "message": "m"}',
    '{"title": "a", "message": "m", "ref": NaN}',
    '{"title": "a", "message": "m", "ref": Infinity}',
    '{"title": "a", "message": "m", "ref": -Infinity}',
    '{"title": "a", "message": "m", "ref": {"x": 1, "x": 2}}',
]


@pytest.mark.parametrize("body", NOT_JSON)
def test_a_body_that_is_not_strict_json_is_a_400(keyless: Sandbox, body: str) -> None:
    with keyless.client() as client:
        for method, path in (("POST", LINKS.format(1)), ("PATCH", LINKS.format(1) + "/1")):
            response = client.request(
                method, path, content=body,
                headers={"Content-Type": "application/json", "Idempotency-Key": "k-dup",
                         "If-Match": '"1"'},
            )  # fmt: skip
            assert response.status_code == 400, (method, response.text)
            assert response.json()["type"] == PROBLEM + "bad-json"
            record("sandbox contract", json_bodies=1)
        titles = [lk["title"] for lk in client.get(LINKS.format(1)).json()["data"]]
    assert titles == ["L0", "L1", "L2"]
