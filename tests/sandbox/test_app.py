"""Where a sandbox server may listen, decided by the library (``sandbox.app.check_bind``,
checked by ``make_server`` itself): a server built without the CLI is as safe as
``sandbox serve``; and how many connections it holds before it accepts them. Real sockets on
loopback; a refused bind never listens."""

from __future__ import annotations

import select
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from reconciler.backends.local import LocalBackend
from reconciler.errors import StoreError, UnsafeBind
from reconciler.sandbox.app import SandboxApp, check_bind
from reconciler.sandbox.server import make_server

KEY = "app-test-key"


def test_its_repr_never_shows_the_key(tmp_path: Path) -> None:
    assert KEY not in repr(SandboxApp(tmp_path / "ws.db", api_key=KEY))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_needs_nothing(host: str) -> None:
    # no key, no --allow-remote, the control endpoint on: nothing is refused
    assert check_bind(host, api_key=None, allow_remote=False, control=True) is None


@pytest.mark.parametrize(
    ("api_key", "allow_remote", "control", "setting", "message"),
    [
        (KEY, False, False, "host", "not a loopback address: pass --allow-remote"),
        (None, False, False, "host", "not a loopback address: pass --allow-remote"),
        (None, True, False, "api_key", "needs an API key"),
        (KEY, True, True, "control", "--control is for a sandbox on a loopback address only"),
    ],
)
def test_another_address_needs_allow_remote_a_key_and_no_control(
    api_key: str | None, allow_remote: bool, control: bool, setting: str, message: str
) -> None:
    for host in ("0.0.0.0", "::", "192.0.2.1", "example.com"):
        with pytest.raises(UnsafeBind, match=message) as info:
            check_bind(host, api_key=api_key, allow_remote=allow_remote, control=control)
        assert info.value.setting == setting
    check_bind("0.0.0.0", api_key=KEY, allow_remote=True, control=False)


def test_make_server_refuses_another_address_without_a_key(tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    for allow_remote in (False, True):
        with pytest.raises(UnsafeBind):
            make_server(SandboxApp(store), "0.0.0.0", 0, allow_remote=allow_remote)
    assert not store.exists()


def test_make_server_refuses_the_control_off_loopback(tmp_path: Path) -> None:
    app = SandboxApp(tmp_path / "ws.db", api_key=KEY, control=True)
    with pytest.raises(UnsafeBind, match="--control") as info:
        make_server(app, "0.0.0.0", 0, allow_remote=True)
    assert info.value.setting == "control"


def test_make_server_refuses_a_store_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="is a directory"):
        make_server(SandboxApp(tmp_path / "dir.db"), "127.0.0.1", 0)


def test_make_server_on_loopback_serves_the_store(tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    backend = LocalBackend(store)
    backend.connect_channel("acmepets", "Acme")
    backend.close()
    server = make_server(SandboxApp(store, api_key=KEY), "127.0.0.1", 0)
    try:
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        headers = {"X-Sleekflow-Api-Key": KEY}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            channels = client.get("/v1/tiktok/channels").json()["data"]
        assert [c["account"] for c in channels] == ["acmepets"]
    finally:
        server.shutdown()
        server.server_close()
    thread.join(timeout=10)


def test_a_burst_of_connections_waits_for_accept_without_a_retry(tmp_path: Path) -> None:
    # socketserver holds 5 connections for accept by default: 32 clients connecting at once
    # (apply --concurrency 32) had their handshakes dropped and retried a second later, or
    # their connections reset. Here the server doesn't accept at all: the kernel must still
    # complete every handshake of the burst (a dropped one would wait a second).
    server = make_server(SandboxApp(tmp_path / "ws.db"))
    host, port = server.server_address[:2]
    clients = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(64)]
    try:
        for client in clients:
            client.setblocking(False)
            client.connect_ex((host, port))
        pending, deadline = set(clients), time.monotonic() + 0.5
        while pending and time.monotonic() < deadline:
            _, ready, _ = select.select([], list(pending), [], 0.05)
            pending -= {c for c in ready if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0}
        assert not pending, f"{len(pending)} of 64 handshakes not completed"
    finally:
        for client in clients:
            client.close()
        server.server_close()
