"""An answer read whole, within bounds, whichever transport brought it: no larger than
``MAX_ANSWER_BYTES`` before or after its Content-Encoding is decoded (a gzip bomb costs at
most that much memory), within the exchange's deadline, interim answers skipped.

- ``Answer``: ``http.client``'s response as ``KeepAliveTransport``'s connections read it:
  an interim answer (``1xx`` but ``101``) skipped, as ``http.client`` skips a ``100``, and
  every read waiting no later than the deadline this thread's exchange set in ``ENDS``.
- ``read_whole``: the headers and decoded body of such an answer.
- ``read_response``: a response of httpx's own transport (through a proxy) read the same way.
"""

from __future__ import annotations

import contextvars
import http.client
import io
import socket
import time
import zlib
from typing import Any

import httpx

__all__ = ["ENDS", "MAX_ANSWER_BYTES", "Answer", "decoded", "read_response", "read_whole"]

#: The largest answer taken, before and after its Content-Encoding is decoded: the API's
#: largest answer is a page of 100 items, some tens of kilobytes.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: When (``time.monotonic``) the exchange under way in this thread must be over, if ever.
ENDS: contextvars.ContextVar[float | None] = contextvars.ContextVar("ends", default=None)


class Answer(http.client.HTTPResponse):
    """An answer as ``http.client`` reads it, but for two things: an interim answer (``1xx``
    but ``101``) is skipped, headers and all, as ``http.client`` skips a ``100``; and, within
    an exchange with a deadline (``ENDS``), every read waits no later than it."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        ends = ENDS.get()
        if ends is not None:
            raw = self.fp.detach()  # the socket's reader, nothing read from it yet
            self.fp = io.BufferedReader(_Deadlined(raw, sock, ends))

    def _read_status(self) -> tuple[str, int, str]:
        version, status, reason = super()._read_status()  # type: ignore[misc]
        if 100 < status < 200 and status != 101:
            return version, http.client.CONTINUE, reason  # begin() skips it
        return version, status, reason


class _Deadlined(io.RawIOBase):
    """A socket's reader whose every read times out by ``ends`` (``time.monotonic``) at the
    latest, and by the socket's timeout (the read timeout) before that."""

    def __init__(self, raw: Any, sock: socket.socket, ends: float) -> None:
        super().__init__()
        self._raw, self._sock, self._ends = raw, sock, ends
        self._timeout = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._ends - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        if self._timeout is None or left < self._timeout:  # the deadline is the nearer
            self._sock.settimeout(left)
            self._timeout = left
        count: int = self._raw.readinto(buffer)
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def read_whole(answer: http.client.HTTPResponse) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers (as sent: bytes, for httpx to decode as it decodes any) and the whole body
    of ``answer``, ``decoded``. ``http.client.IncompleteRead`` for a body cut short;
    ``httpx.DecodingError`` for one over ``MAX_ANSWER_BYTES`` or not the coding it says."""
    try:
        content = answer.read(MAX_ANSWER_BYTES + 1)
        if len(content) > MAX_ANSWER_BYTES:
            raise httpx.DecodingError(f"the answer is over {MAX_ANSWER_BYTES >> 20} MiB")
        if answer.length:  # a read with a limit returns what came before a close: no error
            raise http.client.IncompleteRead(content, answer.length)
    finally:
        answer.close()  # its reader of the socket (the socket itself stays the connection's)
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.getheaders()]
    return decoded(headers, content)


def read_response(
    response: httpx.Response, request: httpx.Request, ends: float | None
) -> httpx.Response:
    """``response`` to ``request`` (of httpx's own transport, not yet read) read whole as
    ``read_whole`` reads an answer, by ``ends`` (``time.monotonic``; a ``ReadTimeout`` past
    it, checked between the reads, each of which the read timeout bounds): the same
    response, read."""
    raw = bytearray()
    try:
        for chunk in response.iter_raw():
            raw += chunk
            if len(raw) > MAX_ANSWER_BYTES:
                raise httpx.DecodingError(
                    f"the answer is over {MAX_ANSWER_BYTES >> 20} MiB", request=request
                )
            if ends is not None and time.monotonic() > ends:
                raise httpx.ReadTimeout(
                    "timed out waiting for the server's answer", request=request
                )
    finally:
        response.close()
    try:
        headers, content = decoded(list(response.headers.raw), bytes(raw))
    except httpx.DecodingError as exc:
        exc.request = request
        raise
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=request,
        extensions={k: v for k, v in response.extensions.items() if k == "reason_phrase"},
    )


def decoded(
    headers: list[tuple[bytes, bytes]], content: bytes
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """``headers`` and ``content`` with the Content-Encoding decoded (gzip, deflate; a
    coding httpx doesn't know is left, as httpx leaves it), Content-Encoding and
    Content-Length then left out (they describe what was sent). ``httpx.DecodingError`` for
    content over ``MAX_ANSWER_BYTES`` decoded, or not the coding it says."""
    codings = [
        coding.strip().lower()
        for name, value in headers
        if name.lower() == b"content-encoding"
        for coding in value.decode("latin-1").split(",")
    ]
    if not codings:
        return headers, content
    try:
        for coding in reversed(codings):  # the last applied first; others left, as by httpx
            if coding in ("gzip", "x-gzip"):
                content = _inflate(content, zlib.MAX_WBITS | 16)
            elif coding == "deflate":  # zlib's format, or (some servers) raw deflate
                try:
                    content = _inflate(content, zlib.MAX_WBITS)
                except zlib.error:
                    content = _inflate(content, -zlib.MAX_WBITS)
    except zlib.error:
        raise httpx.DecodingError(
            "the answer's body is not the gzip or deflate its Content-Encoding says"
        ) from None
    framing = (b"content-encoding", b"content-length")
    return [(k, v) for k, v in headers if k.lower() not in framing], content


def _inflate(data: bytes, wbits: int) -> bytes:
    """``data`` decompressed by zlib (``wbits``: its format), no more than
    ``MAX_ANSWER_BYTES`` of it: ``httpx.DecodingError`` for more, ``zlib.error`` for data
    zlib can't read."""
    inflated = zlib.decompressobj(wbits).decompress(data, MAX_ANSWER_BYTES + 1)
    if len(inflated) > MAX_ANSWER_BYTES:
        raise httpx.DecodingError(f"the answer is over {MAX_ANSWER_BYTES >> 20} MiB decoded")
    return inflated
