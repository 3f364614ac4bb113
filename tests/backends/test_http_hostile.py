"""The http client facing a hostile or broken server, over real loopback sockets (a scripted
server): answers that are legal but unusual (interim 1xx answers, header values that are not
ASCII, a redirect), answers that are broken (a body that says gzip and isn't, one that never
ends) and answers meant to hurt (a gzip bomb, a body of gigabytes). Each is read, or is a
clear ``BackendError``: never a traceback, never unbounded memory or time, never the key
sent anywhere else."""

from __future__ import annotations

import contextlib
import gzip
import ssl
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import stamina

from reconciler.backends.http.answers import MAX_ANSWER_BYTES
from reconciler.backends.http.client import ApiClient, RetryPolicy
from reconciler.backends.http.transport import TIMEOUTS, transport_for
from reconciler.errors import BackendError
from tests.backends.scripted import Script, Scripted

KEY = "sk-hostile-server-KEY-77"
QUICK = RetryPolicy(attempts=3, deadline=5.0, wait_initial=0.01, wait_max=0.02, wait_jitter=0)


_CLIENTS: list[ApiClient] = []


@pytest.fixture(autouse=True)
def no_waits() -> Iterator[None]:
    """No backoff waits; every client a test made closed after it."""
    stamina.set_testing(True, attempts=3)
    yield
    stamina.set_testing(False)
    while _CLIENTS:
        _CLIENTS.pop().close()


def answer(status: str, body: bytes = b"{}", *, extra: bytes = b"") -> bytes:
    """An answer with ``status`` (``"200 OK"``), ``body`` and ``extra`` header lines."""
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n".encode()
    return head + extra + b"\r\n" + body


def in_turn(*answers: bytes) -> Script:
    """A script answering each request with the next of ``answers`` (the last one again)."""
    count = iter(range(10**6))
    return lambda request: answers[min(next(count), len(answers) - 1)]


def client(server: Scripted, policy: RetryPolicy = QUICK) -> ApiClient:
    _CLIENTS.append(ApiClient(str(server.url), KEY, policy=policy))
    return _CLIENTS[-1]


def test_header_values_that_are_not_ascii_are_read(
    scripted: Callable[[Script], Scripted],
) -> None:
    server = scripted(
        in_turn(answer("200 OK", b'{"n": 1}', extra="Server: café ☕\r\nX-Raw: \xe9\r\n".encode()))
    )
    response = client(server).request("GET", "/v1/x", what="reading")
    assert response is not None and response.json() == {"n": 1}


@pytest.mark.parametrize("retry_after", ["²".encode(), b"\xb2", "１".encode(), b"-1", b"1e9"])
def test_a_retry_after_of_odd_digits_is_a_retry_not_a_crash(
    scripted: Callable[[Script], Scripted], retry_after: bytes
) -> None:
    server = scripted(
        in_turn(answer("429 Too Many Requests", extra=b"Retry-After: " + retry_after + b"\r\n"),
                answer("200 OK"))
    )  # fmt: skip
    response = client(server).request("GET", "/v1/x", what="reading")
    assert response is not None and response.status_code == 200
    assert len(server.requests) == 2


@pytest.mark.parametrize("interim", [b"102 Processing", b"103 Early Hints"])
def test_interim_answers_are_skipped_for_the_final_one(
    scripted: Callable[[Script], Scripted], interim: bytes
) -> None:
    first = b"HTTP/1.1 " + interim + b"\r\nLink: </x>; rel=preload\r\n\r\n"
    server = scripted(in_turn(first + answer("201 Created", b'{"id": 1}'), answer("200 OK")))
    api = client(server)
    created = api.request("POST", "/v1/x", what="creating", json={}, key="k-1")
    assert created is not None and created.json() == {"id": 1}
    again = api.request("GET", "/v1/x", what="reading")
    assert again is not None and again.status_code == 200
    assert server.connections == 1 and len(server.requests) == 2  # one create, once


def test_a_body_that_says_gzip_and_is_not_is_an_unreadable_answer(
    scripted: Callable[[Script], Scripted],
) -> None:
    server = scripted(in_turn(answer("200 OK", b"not gzip", extra=b"Content-Encoding: gzip\r\n")))
    with pytest.raises(BackendError, match="the server's answer could not be read") as caught:
        client(server).request("GET", "/v1/x", what="reading")
    assert "could not be sent" not in str(caught.value)


@pytest.mark.parametrize(
    ("coding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("identity, gzip", gzip.compress)],
)
def test_a_compression_bomb_is_refused_before_it_is_decoded_whole(
    scripted: Callable[[Script], Scripted], coding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(b"\0" * (MAX_ANSWER_BYTES + 1))
    assert len(bomb) < MAX_ANSWER_BYTES // 100
    encoding = f"Content-Encoding: {coding}\r\n".encode()
    server = scripted(in_turn(answer("200 OK", bomb, extra=encoding)))
    with pytest.raises(BackendError, match=r"over 16 MiB decoded"):
        client(server).request("GET", "/v1/x", what="reading")
    assert len(server.requests) == 1  # not asked for again


def test_an_answer_over_the_limit_is_refused(scripted: Callable[[Script], Scripted]) -> None:
    server = scripted(in_turn(answer("200 OK", b" " * (MAX_ANSWER_BYTES + 1))))
    with pytest.raises(BackendError, match=r"reading: the server's answer .* over 16 MiB"):
        client(server).request("GET", "/v1/x", what="reading")


def test_an_answer_within_the_limit_is_decoded(scripted: Callable[[Script], Scripted]) -> None:
    body = b'{"s": "' + b"a" * (MAX_ANSWER_BYTES - 10) + b'"}'
    server = scripted(
        in_turn(answer("200 OK", gzip.compress(body), extra=b"Content-Encoding: gzip\r\n"))
    )
    response = client(server).request("GET", "/v1/x", what="reading")
    assert response is not None and len(response.json()["s"]) == MAX_ANSWER_BYTES - 10


def test_a_slow_drip_is_cut_at_the_deadline(scripted: Callable[[Script], Scripted]) -> None:
    def drip(request: bytes) -> list[bytes | float]:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        return [head, *[part for _ in range(1000) for part in (b" ", 0.05)]]

    server = scripted(drip)
    policy = RetryPolicy(attempts=3, deadline=0.6, wait_initial=0.01, wait_jitter=0)
    started = time.monotonic()
    with pytest.raises(BackendError, match="ReadTimeout"):
        client(server, policy).request("GET", "/v1/x", what="reading")
    assert time.monotonic() - started < 2.0  # each byte came within the read timeout


def test_endless_interim_answers_are_cut_at_the_deadline(
    scripted: Callable[[Script], Scripted],
) -> None:
    server = scripted(lambda request: [
        part for _ in range(1000) for part in (b"HTTP/1.1 103 Early Hints\r\n\r\n", 0.05)
    ])  # fmt: skip
    policy = RetryPolicy(attempts=3, deadline=0.6, wait_initial=0.01, wait_jitter=0)
    started = time.monotonic()
    with pytest.raises(BackendError, match="ReadTimeout"):
        client(server, policy).request("GET", "/v1/x", what="reading")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "status",
    [b"301 Moved Permanently", b"302 Found", b"307 Temporary Redirect", b"308 Permanent Redirect"],
)
def test_a_redirect_is_not_followed_and_says_where_it_points(
    scripted: Callable[[Script], Scripted], status: bytes
) -> None:
    elsewhere = scripted(in_turn(answer("200 OK")))
    location = f"http://user:pw@127.0.0.1:{elsewhere.url.port}/v1/x\x1b[2J".encode()
    server = scripted(
        in_turn(answer(status.decode(), b"", extra=b"Location: " + location + b"\r\n"))
    )
    with pytest.raises(BackendError) as caught:
        client(server).request("POST", "/v1/x", what="creating", json={}, key="k-1")
    message = str(caught.value)
    assert f"redirects to http://127.0.0.1:{elsewhere.url.port}/v1/x\\u001b[2J" in message
    assert "not followed" in message and "pw" not in message and "\x1b" not in message
    assert elsewhere.requests == [] and len(server.requests) == 1


JUNK = answer("200 OK", b'{"n": "junk"}')


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(answer("204 No Content", b"") + JUNK, id="204-then-more"),
        pytest.param(
            b"HTTP/1.1 204 No Content\r\nContent-Length: 13\r\n\r\n" + JUNK[:13], id="204-with-body"
        ),
        pytest.param(b"HTTP/1.1 304 Not Modified\r\n\r\n" + JUNK, id="304-with-body"),
        pytest.param(answer("200 OK", b'{"n": 1}') + JUNK, id="longer-than-content-length"),
    ],
)
def test_bytes_past_an_answer_never_become_the_next_answer(
    scripted: Callable[[Script], Scripted], first: bytes
) -> None:
    server = scripted(in_turn(first, answer("200 OK", b'{"n": 2}')))
    api = client(server)
    with contextlib.suppress(BackendError):  # a 304 is one
        api.request("GET", "/v1/x", what="reading")
    time.sleep(0.05)  # the junk has arrived
    second = api.request("GET", "/v1/x", what="reading")
    assert second is not None and second.json() == {"n": 2}


def test_through_a_proxy_an_answer_is_bounded_and_decoded_too(
    scripted: Callable[[Script], Scripted],
) -> None:
    # The scripted server stands in for the proxy (of an http:// origin: it gets each request
    # whole and answers for the origin).
    bomb = gzip.compress(b"\0" * (MAX_ANSWER_BYTES + 1))
    proxy = scripted(
        in_turn(
            answer("200 OK", gzip.compress(b'{"n": 1}'), extra=b"Content-Encoding: gzip\r\n"),
            answer("200 OK", bomb, extra=b"Content-Encoding: gzip\r\n"),
        )
    )
    transport = transport_for(httpx.URL("http://api.example"), str(proxy.url), connections=2)
    request = httpx.Request("GET", "http://api.example/v1/x", extensions={"timeout": TIMEOUTS})
    try:
        assert transport.handle_request(request).json() == {"n": 1}
        with pytest.raises(httpx.DecodingError, match="over 16 MiB"):
            transport.handle_request(request)
    finally:
        transport.close()
    assert proxy.requests[0].startswith(b"GET http://api.example/v1/x HTTP/1.1")


def test_a_certificate_that_fails_its_check_is_not_tried_again(
    scripted: Callable[..., Scripted], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate  # self-signed: no client trusts it
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    server = scripted(in_turn(answer("200 OK")), served)
    with pytest.raises(BackendError, match=r"gave up after 1 attempt: .*CERTIFICATE_VERIFY_FAILED"):
        client(server).request("GET", "/v1/x", what="reading")
    assert server.connections == 1
