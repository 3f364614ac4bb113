"""The connections the API client sends through when no proxy is in the way: an httpx
transport over the standard library's ``http.client``, one keep-alive connection a request.

Why not httpx's own pool: measured on the 10,000-link plan (docs/benchmarks.md), httpx's client
and httpcore's pool cost about 2.5 ms of CPU a request on this project's machines, most of it
spent by threads competing for the pool's connections; a stack of idle ``http.client``
connections costs about a fifth of that, and the requests, responses and errors stay httpx's,
so the rest of the client (and a test's ``httpx.MockTransport``) is unchanged.
``transport_for`` chooses between it and httpx's own (through a proxy).

The contract, as any httpx transport's:
- ``handle_request`` sends one request on an idle connection (or a new one) and returns its
  whole response, read; the connection goes back to the idle stack unless the server said it
  would close it. A connection the server closed while it sat idle is noticed before it is
  used (its socket is readable) and dropped, so a request is never sent on it.
- Failures are httpx's exceptions, with the socket's error as their cause: ``ConnectError``
  (a name that doesn't resolve, a refused connection, a TLS failure), ``ConnectTimeout``,
  ``ReadTimeout``, ``WriteError``, ``ReadError`` (a reset), ``RemoteProtocolError`` (the
  server closed without an answer, or answered with something that is not HTTP/1.1). The
  connection a failure happened on is closed, never reused.
- Timeouts are the request's (``extensions["timeout"]``: ``connect``, then ``read`` for every
  wait after it), as httpx's own transport reads them; ``extensions["deadline"]``, if given,
  bounds the whole exchange in seconds (a server dripping its answer a byte at a time, each
  within the read timeout, is a ``ReadTimeout`` when it passes).
- An interim answer (``1xx`` but ``101``) is skipped for the final one, as httpx skips it.
- An answer over ``MAX_ANSWER_BYTES``, before or after its ``Content-Encoding`` (gzip,
  deflate) is decoded, or whose body is not the coding it says, is a ``DecodingError``, read
  no further (a gzip bomb costs at most that much memory): ``answers``. So is one through a
  proxy, read by httpx's own transport (bounded by the deadline between its reads only).
- ``close`` closes every idle connection; a request under way finishes on its own.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
from typing import Any, NoReturn

import httpx

from reconciler.backends.http.answers import (
    ENDS,
    Answer,
    read_response,
    read_whole,
)
from reconciler.errors import BackendError
from reconciler.model import visible
from reconciler.net import without_credentials

__all__ = ["READ_TIMEOUT", "TIMEOUTS", "KeepAliveTransport", "transport_for"]

#: Seconds to wait: to connect, and for each read, write or free connection after it. The
#: client sends every request with these; a request carrying none gets them too.
READ_TIMEOUT = 30.0
TIMEOUTS = httpx.Timeout(READ_TIMEOUT, connect=5.0).as_dict()


def transport_for(origin: httpx.URL, proxy: str | None, *, connections: int) -> httpx.BaseTransport:
    """How requests to ``origin`` travel: straight, over a ``KeepAliveTransport`` keeping up to
    ``connections`` idle, or, when the environment names a ``proxy`` for it
    (``net.environment_proxy``), through httpx's own transport, which tunnels https (the proxy
    sees the host, never the request). https is checked against httpx's certificates
    (``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured). A proxy httpx can't use is a
    ``BackendError`` naming it without its credentials."""
    context = httpx.create_ssl_context() if origin.scheme == "https" else None
    if proxy is None:
        return KeepAliveTransport(origin, max_idle=connections, ssl_context=context)
    try:
        return _ReadWhole(
            httpx.HTTPTransport(
                proxy=proxy,
                verify=context or True,
                limits=httpx.Limits(max_connections=connections),
            )
        )
    except (httpx.InvalidURL, ValueError, ImportError):
        shown = visible(without_credentials(proxy))
        raise BackendError(f"the proxy {shown} named by the environment can't be used") from None


class _ReadWhole(httpx.BaseTransport):
    """httpx's own transport ``inner``, each answer read whole as ``KeepAliveTransport`` reads
    one (``answers.read_response``)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = request.extensions.get("deadline")
        ends = None if deadline is None else time.monotonic() + deadline
        return read_response(self._inner.handle_request(request), request, ends)

    def close(self) -> None:
        self._inner.close()


class KeepAliveTransport(httpx.BaseTransport):
    """Requests to one origin (``scheme://host:port``) over keep-alive connections: at most
    ``max_idle`` are kept between requests (as many are open as requests are under way).
    ``ssl_context`` checks the server of an https origin."""

    def __init__(
        self,
        url: httpx.URL,
        *,
        max_idle: int = 10,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise ValueError(f"not an http(s) origin: {url.scheme}://{url.raw_host!r}")
        self._scheme = url.scheme
        self._host = url.raw_host.decode("ascii")  # IDNA-encoded, as it is resolved
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl = ssl_context
        self._max_idle = max_idle
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"KeepAliveTransport({self._scheme}://{self._host}:{self._port})"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """``request`` sent and its whole response read (see the module's contract)."""
        url = request.url
        if (url.scheme, url.raw_host.decode("ascii"), url.port or self._port) != (
            self._scheme,
            self._host,
            self._port,
        ):
            raise httpx.UnsupportedProtocol(f"this transport serves {self!r} only")
        timeouts = {**TIMEOUTS, **(request.extensions.get("timeout") or {})}
        deadline = request.extensions.get("deadline")
        ends = ENDS.set(None if deadline is None else time.monotonic() + deadline)
        try:
            conn = self._take() or self._connect(timeouts)
            body = request.read()
            try:
                conn.putrequest(
                    request.method,
                    request.url.raw_path.decode("ascii"),
                    skip_host=True,
                    skip_accept_encoding=True,
                )
                for name, value in request.headers.raw:
                    conn.putheader(name.decode("latin-1"), value.decode("latin-1"))
                conn.endheaders(body or None)
                if conn.sock is not None:
                    conn.sock.settimeout(timeouts.get("read"))
                answer = conn.getresponse()
                headers, content = read_whole(answer)
            except BaseException as exc:
                conn.close()
                _raise_as_httpx(exc, connecting=False, request=request)
        finally:
            ENDS.reset(ends)
        response = httpx.Response(
            answer.status,
            headers=headers,
            content=content,
            request=request,
            extensions={"reason_phrase": answer.reason.encode("latin-1")},
        )
        self._give_back(conn, closing=answer.will_close)
        return response

    def close(self) -> None:
        """Close every idle connection; none is kept after this."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _take(self) -> http.client.HTTPConnection | None:
        """The most recently used idle connection the server hasn't closed, if any."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                conn = self._idle.pop()
            if _still_open(conn):
                return conn
            conn.close()

    def _give_back(self, conn: http.client.HTTPConnection, *, closing: bool) -> None:
        """``conn`` kept for the next request, or closed (the server closes it, the stack is
        full, or the transport was closed)."""
        with self._lock:
            if not closing and not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self, timeouts: dict[str, Any]) -> http.client.HTTPConnection:
        """A new connection to the origin, opened now so that a failure to connect is told
        apart from a failure after it."""
        connect = timeouts.get("connect")
        conn: http.client.HTTPConnection
        if self._scheme == "https":
            context = self._ssl or ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=connect, context=context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=connect)
        conn.response_class = Answer
        try:
            conn.connect()
        except BaseException as exc:
            conn.close()
            _raise_as_httpx(exc, connecting=True, request=None)
        return conn


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can carry a request: its socket has nothing to read (a
    closed one reads as end of file, a TLS one may hold the server's close notice, and an
    answer nobody asked for is as unusable)."""
    sock = conn.sock
    if sock is None or sock.fileno() < 0:
        return False
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return not poller.poll(0)
    readable, _, _ = select.select([sock], [], [], 0)  # pragma: no cover (no poll: Windows)
    return not readable  # pragma: no cover


def _raise_as_httpx(
    exc: BaseException, *, connecting: bool, request: httpx.Request | None
) -> NoReturn:
    """Raise ``_as_httpx`` of ``exc``, caused by it (``exc`` itself when it stays as it is)."""
    mapped = _as_httpx(exc, connecting=connecting, request=request)
    if mapped is exc:
        raise exc
    raise mapped from exc


def _as_httpx(
    exc: BaseException, *, connecting: bool, request: httpx.Request | None
) -> BaseException:
    """The httpx exception for a failure of ``http.client`` or the socket (see the module's
    contract), worded for a person (the socket's own words after a colon); anything else (an
    interrupt, a bug) as it is."""
    kwargs: dict[str, Any] = {} if request is None else {"request": request}
    if isinstance(exc, httpx.RequestError):  # raised here, its words ours: as it is
        if request is not None:
            exc.request = request
        return exc
    cause = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        if connecting:
            return httpx.ConnectTimeout("timed out connecting to the server", **kwargs)
        return httpx.ReadTimeout("timed out waiting for the server's answer", **kwargs)
    if connecting and isinstance(exc, OSError):  # refused, unreachable, no such name, TLS
        return httpx.ConnectError(f"could not connect to the server: {cause}", **kwargs)
    if isinstance(exc, http.client.RemoteDisconnected):
        return httpx.RemoteProtocolError(
            "the server closed the connection without an answer", **kwargs
        )
    if isinstance(exc, http.client.IncompleteRead):
        return httpx.RemoteProtocolError(
            "the server closed the connection before its answer was whole", **kwargs
        )
    if isinstance(exc, http.client.HTTPException):
        return httpx.RemoteProtocolError(
            f"the server's answer is not HTTP/1.1 ({type(exc).__name__})", **kwargs
        )
    if isinstance(exc, BrokenPipeError):
        return httpx.WriteError("the server closed the connection while being sent to", **kwargs)
    if isinstance(exc, OSError):
        return httpx.ReadError(f"the connection failed: {cause}", **kwargs)
    if isinstance(exc, ValueError | UnicodeError):  # a header http.client won't send
        return httpx.LocalProtocolError("the request could not be sent", **kwargs)
    return exc
