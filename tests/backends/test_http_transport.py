"""The http client's transport (``backends/http/transport.py``) over real loopback sockets: a
scripted server for the answers a failure needs (a close without an answer, a reset, silence,
something that is not HTTP), the project's sandbox for the real API."""

from __future__ import annotations

import gzip
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.backends.http import HttpBackend
from reconciler.backends.http.transport import TIMEOUTS, KeepAliveTransport
from reconciler.backends.local import LocalBackend
from tests.backends.scripted import Script, Scripted, ok
from tests.helpers import SandboxFactory


def get(transport: KeepAliveTransport, url: httpx.URL, path: str = "/x") -> httpx.Response:
    """A GET of ``path``, with the timeouts and a deadline, as the client sends one."""
    extensions = {"timeout": TIMEOUTS, "deadline": 60.0}
    request = httpx.Request("GET", url.join(path), extensions=extensions)
    return transport.handle_request(request)


def test_sequential_requests_share_one_connection(scripted: Callable[[Script], Scripted]) -> None:
    server = scripted(lambda request: ok(b'{"n": 1}'))
    transport = KeepAliveTransport(server.url)
    answers = [get(transport, server.url, f"/page/{i}").json() for i in range(20)]
    transport.close()
    assert answers == [{"n": 1}] * 20
    assert server.connections == 1
    assert [r.split(b" ")[1] for r in server.requests] == [f"/page/{i}".encode() for i in range(20)]


def test_concurrent_requests_open_a_connection_each_and_keep_at_most_max_idle(
    scripted: Callable[[Script], Scripted],
) -> None:
    gate = threading.Barrier(6)

    def slow(request: bytes) -> bytes:
        gate.wait(timeout=5)  # all six are under way at once
        return ok()

    server = scripted(slow)
    transport = KeepAliveTransport(server.url, max_idle=2)
    threads = [threading.Thread(target=get, args=(transport, server.url)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert server.connections == 6
    assert len(transport._idle) == 2  # the other four were closed when they came back
    transport.close()
    assert transport._idle == []


def test_the_request_is_sent_as_built(scripted: Callable[[Script], Scripted]) -> None:
    server = scripted(lambda request: ok())
    transport = KeepAliveTransport(server.url)
    request = httpx.Request(
        "POST",
        server.url.join("/v1/a%2Fb"),
        params={"q": "é x"},
        json={"title": "Ünïcode"},
        headers={"Idempotency-Key": "k-1", "If-Match": '"3"'},
    )
    assert transport.handle_request(request).status_code == 200
    transport.close()
    (sent,) = server.requests
    head, _, body = sent.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/a%2Fb?q=%C3%A9+x HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert b"Idempotency-Key: k-1" in lines and b'If-Match: "3"' in lines
    assert not any(line.lower().startswith(b"accept-encoding") for line in lines)
    assert body == request.content


def test_a_compressed_answer_is_decoded(scripted: Callable[[Script], Scripted]) -> None:
    body = gzip.compress(b'{"data": [], "next_cursor": null}')
    server = scripted(lambda request: ok(body, extra="Content-Encoding: gzip\r\n"))
    transport = KeepAliveTransport(server.url)
    assert get(transport, server.url).json() == {"data": [], "next_cursor": None}
    transport.close()


def test_a_connection_the_server_closes_is_not_reused(
    scripted: Callable[[Script], Scripted],
) -> None:
    server = scripted(lambda request: ok(close=True))
    transport = KeepAliveTransport(server.url)
    for _ in range(3):
        assert get(transport, server.url).status_code == 200
    assert server.connections == 3 and transport._idle == []


def test_a_connection_closed_while_idle_is_noticed_before_it_is_used(
    scripted: Callable[[Script], Scripted],
) -> None:
    server = scripted(lambda request: ok(b'{"n": 1}'))
    server.close_after_each = True  # silently, as a load balancer's idle timeout does
    transport = KeepAliveTransport(server.url)
    assert get(transport, server.url).json() == {"n": 1}
    assert len(transport._idle) == 1  # nothing said it would close
    time.sleep(0.05)
    assert get(transport, server.url).json() == {"n": 1}  # no error, no retry needed
    transport.close()
    assert server.connections == 2 and len(server.requests) == 2


@pytest.mark.parametrize(
    ("script", "error", "words"),
    [
        (lambda request: None, httpx.RemoteProtocolError, "closed the connection without"),
        (lambda request: b"SPDY/3 200 OK\r\n\r\n", httpx.RemoteProtocolError, "not HTTP/1.1"),
        (
            lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12",
            httpx.RemoteProtocolError,
            "before its answer was whole",
        ),
    ],
)
def test_a_failed_answer_is_an_httpx_error_and_its_connection_is_dropped(
    scripted: Callable[[Script], Scripted],
    script: Script,
    error: type[Exception],
    words: str,
) -> None:
    server = scripted(script)
    transport = KeepAliveTransport(server.url)
    with pytest.raises(error, match=words):
        get(transport, server.url)
    assert transport._idle == []


def test_silence_is_a_read_timeout(scripted: Callable[[Script], Scripted]) -> None:
    server = scripted(lambda request: time.sleep(2) or ok())
    transport = KeepAliveTransport(server.url)
    request = httpx.Request(
        "GET", server.url.join("/x"), extensions={"timeout": {"connect": 1.0, "read": 0.2}}
    )
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout, match="waiting for the server's answer"):
        transport.handle_request(request)
    assert time.monotonic() - started < 1.5


def test_https_checks_the_certificate_and_keeps_the_connection(
    scripted: Callable[..., Scripted], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    server = scripted(lambda request: ok(b'{"tls": true}'), served)
    trusting = ssl.create_default_context(cafile=str(cert))
    transport = KeepAliveTransport(server.url, ssl_context=trusting)
    assert [get(transport, server.url).json() for _ in range(3)] == [{"tls": True}] * 3
    transport.close()
    assert server.connections == 1
    stranger = KeepAliveTransport(server.url, ssl_context=ssl.create_default_context())
    with pytest.raises(httpx.ConnectError, match=r"could not connect to the server: .*CERTIFICATE"):
        get(stranger, server.url)


def test_a_refused_connection_is_a_connect_error_naming_the_cause() -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    url = httpx.URL(f"http://127.0.0.1:{port}/")
    with pytest.raises(httpx.ConnectError, match=r"could not connect to the server: .*refused"):
        get(KeepAliveTransport(url), url)


def test_a_name_that_does_not_resolve_keeps_its_cause() -> None:
    url = httpx.URL("http://no-such-host.invalid/")
    with pytest.raises(httpx.ConnectError) as caught:
        get(KeepAliveTransport(url), url)
    assert isinstance(caught.value.__cause__, socket.gaierror)


def test_another_origin_is_refused() -> None:
    transport = KeepAliveTransport(httpx.URL("http://127.0.0.1:9/"))
    with pytest.raises(httpx.UnsupportedProtocol):
        get(transport, httpx.URL("http://127.0.0.2:9/"))
    with pytest.raises(ValueError, match="not an http"):
        KeepAliveTransport(httpx.URL("ftp://127.0.0.1/"))


def test_the_backend_reads_the_sandbox_over_a_few_connections(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    local = LocalBackend(store)
    local.connect_channel("acmepets", "Acme Pets")
    local.close()
    server = sandbox(store=store)
    backend = HttpBackend(server.url, None, concurrency=4)
    for i in range(12):
        backend.create_link("1", title=f"L{i}", ref=None, message="m", key=f"k{i}")
    (channel,) = backend.read().channels
    transport = backend.api._transport
    assert isinstance(transport, KeepAliveTransport)
    assert len(channel.links) == 12 and 1 <= len(transport._idle) <= 4 + 2
    backend.close()
    assert transport._idle == []
