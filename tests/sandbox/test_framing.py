"""The sandbox's own reading of a request head (``sandbox.framing``) decides exactly as the
standard library's does (``BaseHTTPRequestHandler.parse_request``, ``http.client.parse_headers``)
with the sandbox's header rules on top: a differential test over request lines and header
blocks built to sit on every edge (each byte value at each place of a line, line breaks of every
kind, folding, blanks around the colon, the line and count limits). And a response is one
buffer with the head the base class would write."""

from __future__ import annotations

import email.utils
import http.client
import io
import itertools
import random
from http.server import BaseHTTPRequestHandler

import pytest

from reconciler.sandbox import framing


class _Reference(BaseHTTPRequestHandler):
    """The standard library's reading of a request, without a socket: the error it would
    send, if any. As the sandbox's handler, it speaks HTTP/1.1."""

    protocol_version = "HTTP/1.1"

    def __init__(self, raw: bytes) -> None:
        self.raw_requestline = raw
        self.rfile = io.BytesIO(b"\r\n")
        self.refusal: tuple[int, str | None] | None = None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.refusal = (code, message)


def _reference_line(line: str) -> framing.RequestLine | None:
    """What the base class makes of request line ``line``; None when it would answer nothing."""
    ref = _Reference(line.encode("latin-1") + b"\r\n")
    ok = ref.parse_request()
    if ref.refusal is None and not ok:
        return None
    if ref.refusal is not None:
        code, message = ref.refusal
        return framing.RequestLine(version=ref.request_version, refusal=(code, str(message)))
    return framing.RequestLine(
        command=str(ref.command),
        path=ref.path,
        version=ref.request_version,
        keep_alive=not ref.close_connection,
    )


VERSIONS = [
    *("HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/3.1", "HTTP/1", "HTTP/1.1.1"),
    *("HTTP/x.y", "HTTP/\u00b2.1", "HTTP/1.\u00b9", "HTTP/01.01", "HTTP/00000000001.1"),
    *("HTTP/12345678901.1", "HTTPS/1.1", "http/1.1", "HTTP/", "HTTP/.", "HTTP/1.", "HTTP/+1.1"),
    *("HTTP/1.-1", "HTTP/ 1.1", "1.1"),
]


def _request_lines() -> list[str]:
    lines = []
    for method, path in itertools.product(["GET", "POST", "get", "PATCH"], ["/x", "//a//b", "*"]):
        lines += [f"{method} {path}", f"{method}", f"{method} {path} extra"]
        lines += [f"{method} {path} {version}" for version in VERSIONS]
        lines += [f"{method}  {path}\t{VERSIONS[0]}", f"{method} {path} a {VERSIONS[0]}"]
    return lines


@pytest.mark.parametrize("line", _request_lines())
def test_a_request_line_is_read_as_the_standard_library_reads_it(line: str) -> None:
    expected = _reference_line(line)
    assert expected is not None
    assert framing.request_line(line) == expected


def _reference_headers(block: bytes) -> list[tuple[str, str]] | type[Exception] | None:
    """The headers of ``block`` as the sandbox reads them: http.client's reading, then None for
    a defect, lines left unread, a folded value or a bare CR; the exception class of a
    limit."""
    try:
        headers = http.client.parse_headers(io.BytesIO(block))
    except http.client.HTTPException as exc:
        return type(exc)
    unread = headers.defects or headers.get_payload()
    folded = any("\n" in value or "\r" in value for value in headers.values())
    lines = iter(io.BytesIO(block).readline, b"")
    head = b"".join(itertools.takewhile(lambda line: line not in (b"\r\n", b"\n"), lines))
    bare_cr = b"\r" in head.replace(b"\r\n", b"")  # RFC 9112 section 2.2: no line break
    return None if unread or folded or bare_cr else list(headers.items())


def _framing_headers(block: bytes) -> list[tuple[str, str]] | type[Exception] | None:
    try:
        head = framing.read_headers(io.BytesIO(block))
    except http.client.HTTPException as exc:
        return type(exc)
    if head is None:
        return None
    items = list(head.message.items())
    by_name: dict[str, list[str]] = {}
    for name, value in items:
        by_name.setdefault(name.lower(), []).append(value)
    assert head.fields == by_name
    return items


def _header_blocks() -> list[bytes]:
    blocks = []
    ok = b"Host: 127.0.0.1\r\n"
    for value in range(256):
        byte = bytes([value])
        for line in (
            byte + b"X: v\r\n",
            b"X" + byte + b": v\r\n",
            b"X" + byte + b"Y: v\r\n",
            b"X:" + byte + b"v\r\n",
            b"X: v" + byte + b"w\r\n",
            b"X: v" + byte + b"\r\n",
            b"X: v" + byte + b"\n",
            b"X" + byte + b"\r\n",
        ):
            blocks += [ok + line + b"\r\n", line + ok + b"\r\n", line + b"\n"]
    rng = random.Random(19)
    parts = [
        *(b"Host", b"X-A", b"From", b"From ", b"a b", b"", b" ", b"\t", b":", b": ", b":\t"),
        *(b"v", b" v ", b"\xe9", b"\x85", b"\x0b", b"\r", b"\r\n", b"\n", b"\r\n ", b"\r\n\t"),
        *(b"\x00", b"\x7f", b"\xff", b"\x1c", b"Content-Length", b"0", b"chunked", b"=?x?="),
    ]
    for _ in range(3000):
        lines = [b"".join(rng.choices(parts, k=rng.randint(1, 6))) for _ in range(3)]
        blocks.append(b"".join(line if line.endswith(b"\n") else line + b"\r\n" for line in lines))
        blocks[-1] += rng.choice([b"\r\n", b"\n", b""])
    blocks += [
        b"",
        b"\r\n",
        b"X: " + b"a" * framing.MAX_LINE + b"\r\n\r\n",
        b"X: " + b"a" * (framing.MAX_LINE - 5) + b"\r\n\r\n",
        b"X: 1\r\n" * framing.MAX_HEADERS + b"\r\n",
        b"X: 1\r\n" * (framing.MAX_HEADERS - 1) + b"\r\n",
        b"Host: a\r\nHost: b\r\nhost: c\r\n\r\n",
    ]
    return blocks


def test_header_lines_are_read_as_before_byte_for_byte() -> None:
    blocks = _header_blocks()
    differ = [b for b in blocks if _framing_headers(b) != _reference_headers(b)]
    assert not differ, differ[:5]
    # Both kinds are in the corpus: blocks taken, and blocks refused.
    results = [_reference_headers(b) for b in blocks]
    assert any(isinstance(r, list) and r for r in results) and None in results


def test_a_response_is_the_head_the_base_class_writes_then_the_body() -> None:
    data = framing.response(
        "HTTP/1.1", 201, [("Content-Length", "2"), ("ETag", '"1"')], b"{}", server="s 1"
    )
    head, _, body = data.partition(b"\r\n\r\n")
    status, server, date, *rest = head.decode("latin-1").split("\r\n")
    assert (status, server, rest, body) == (
        "HTTP/1.1 201 Created",
        "Server: s 1",
        ["Content-Length: 2", 'ETag: "1"'],
        b"{}",
    )
    assert email.utils.parsedate_to_datetime(date.removeprefix("Date: ")) is not None
    assert framing.response("HTTP/1.1", 599, [], b"", server="s").startswith(b"HTTP/1.1 599 \r\n")
