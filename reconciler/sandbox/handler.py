"""The request handler of ``sandbox serve``: HTTP framing, auth, injected faults and the
problem responses around the API's routes (``routes.Api``).

A handler owns its socket, so a "dropped after commit" fault really is a closed connection
with no response after the write committed, and a reset is a TCP RST.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import socket
import struct
import sys
import traceback
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

from reconciler.backends.local.api import StoreApi
from reconciler.errors import ApiProblem, StoreError
from reconciler.net import is_loopback
from reconciler.sandbox.app import CONTROL_PATH, SandboxApp
from reconciler.sandbox.faults import Fault, FaultConfig
from reconciler.sandbox.routes import (
    ALLOWED,
    IDEMPOTENCY_KEY,
    Answer,
    Api,
    route_name,
    split_target,
)
from reconciler.sandbox.validation import method_not_allowed, parse_json, problem_body

MAX_BODY_BYTES = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    """Answers the requests of one connection to a sandbox server, for ``app``; ``verbose``
    logs each request. A server makes it with ``functools.partial(Handler, app=...,
    verbose=...)``, as ``http.server`` does for its ``directory``."""

    protocol_version = "HTTP/1.1"
    server_version = "reconciler-sandbox"
    #: Seconds a connection may sit idle or stall mid-request before it is closed.
    timeout = 30
    #: Headers and body go out in two writes; with Nagle's algorithm the second waits for
    #: the client's delayed ACK, some 40 ms on every response.
    disable_nagle_algorithm = True

    def __init__(self, *args: Any, app: SandboxApp, verbose: bool = False) -> None:
        # Set before the base class's __init__, which handles the whole connection.
        self.app = app
        self.verbose = verbose
        self._store: StoreApi | None = None
        super().__init__(*args)

    def store(self) -> StoreApi:
        """The store as this connection's requests see it: opened by its first request and
        kept for the others, so each server thread (one per connection) has one SQLite
        connection, whose statements are prepared once."""
        if self._store is None:
            self._store = self.app.open()
        return self._store

    def close_store(self) -> None:
        """Close this connection's store (a later request opens it again, checked anew)."""
        if self._store is not None:
            store, self._store = self._store, None
            store.close()

    def log_message(self, format: str, *args: Any) -> None:
        """Log a request line, only when the server is verbose."""
        if self.verbose:
            super().log_message(format, *args)

    # Every method the API has, and the common ones it hasn't (a 405 with an Allow header).
    def do_GET(self) -> None:
        """Answer a GET."""
        self.dispatch("GET")

    def do_POST(self) -> None:
        """Answer a POST."""
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        """Answer a PATCH."""
        self.dispatch("PATCH")

    def do_DELETE(self) -> None:
        """Answer a DELETE."""
        self.dispatch("DELETE")

    def do_PUT(self) -> None:
        """Answer a PUT (no resource takes it: a 404 or 405)."""
        self.dispatch("PUT")

    def do_HEAD(self) -> None:
        """Answer a HEAD (no resource takes it: a 404 or 405)."""
        self.dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        """Answer an OPTIONS (no resource takes it: a 404 or 405)."""
        self.dispatch("OPTIONS")

    def do_TRACE(self) -> None:
        """Answer a TRACE (no resource takes it: a 404 or 405)."""
        self.dispatch("TRACE")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the base class finds before a request reaches ``dispatch`` (a malformed
        request line, headers too long or too many, a method with no ``do_`` handler) as
        problems too, never its HTML page (nor a 501 for a method: that is a 405 here)."""
        self.close_connection = True
        path = split_target(getattr(self, "path", None) or "").path
        if code == HTTPStatus.NOT_IMPLEMENTED and self.command:
            name = route_name(path)
            if name is None:
                problem = ApiProblem(404, "not-found", f"no such resource: {path}")
            else:
                problem = method_not_allowed(self.command, ALLOWED[name])
        else:
            kinds = {414: "uri-too-long", 431: "headers-too-large"}
            detail = message or HTTPStatus(code).phrase
            problem = ApiProblem(code, kinds.get(code, "bad-request"), detail)
        with contextlib.suppress(OSError):
            self.send_json(
                problem.status, problem_body(problem, path), problem.headers, problem=True
            )

    def parse_request(self) -> bool:
        """The base class's reading of the request line and headers, then the header rules it
        doesn't check (RFC 9112 section 5): a line it could not read as ``name: value`` (a
        space before the colon, ``Transfer-Encoding : chunked``) ends its headers early and
        leaves the rest to be read as a body or a next request, so it is a 400; so is a
        header folded over two lines (obs-fold)."""
        if not super().parse_request():
            return False
        headers = self.headers
        unread = headers.defects or headers.get_payload()
        folded = any("\n" in value or "\r" in value for value in headers.values())
        if unread or folded:
            self.send_error(
                400,
                "a header line is not 'name: value' (a space before the colon, or a line "
                "folded onto the next)",
            )
            return False
        return True

    def finish(self) -> None:
        """Flush and close the streams; a connection already gone is not an error."""
        # The connection may have been dropped on purpose (a fault) or by the client.
        with contextlib.suppress(OSError, ValueError):
            super().finish()
        self.close_store()

    # --- plumbing --------------------------------------------------------------------------

    def dispatch(self, method: str) -> None:
        """Answer one request: framing, auth, the route, the body, then faults and the work.

        Auth comes before the body is looked at, so a caller without the key learns nothing
        from a 400. An ``Idempotency-Key`` is claimed before the injected latency, so a
        second request with the key while the first waits is a 409, as with a slow server.
        """
        app = self.app
        path = split_target(self.path).path
        fault = Fault.NONE
        write = method in ("POST", "PATCH", "DELETE")
        try:
            app.check_host(self.headers.get_all("Host") or [])
            raw = self.read_raw()
            if raw is None:
                return  # the client went away mid-body
            self.authenticate()
            if app.control and path == CONTROL_PATH:
                status, payload, headers = self.control(method, raw)
                self.send_json(status, payload, headers)
                return
            api = Api(
                self.store,
                self.path,
                self.headers.get("Idempotency-Key"),
                self.headers.get_all("If-Match") or [],
            )
            handler, args = api.route(method, path)
            body = self.parse_body(method, raw)
            with self.claim_key(method):
                app.faults.delay()
                fault = self.inject_fault(write=write)
                if fault is Fault.DROP_BEFORE:
                    self.drop()
                    return
                if fault is Fault.RESET:
                    self.reset()
                    return
                status, payload, headers = handler(*args, body=body)
        except ApiProblem as problem:
            self.send_json(
                problem.status, problem_body(problem, path), problem.headers, problem=True
            )
            return
        except StoreError as exc:
            self.close_store()  # the next request opens and checks the store anew
            self.send_json(
                503,
                problem_body(ApiProblem(503, "store-unavailable", str(exc)), path),
                {"Retry-After": "1"},
                problem=True,
            )
            return
        except Exception:
            # A bug, not bad input: say so (500) rather than drop the connection unanswered.
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            bug = ApiProblem(500, "internal-error", "the sandbox failed; see its stderr")
            self.send_json(500, problem_body(bug, path), problem=True)
            return
        if write and fault is Fault.DROP_AFTER:
            self.drop()
            return
        self.send_json(status, payload, headers)

    def inject_fault(self, *, write: bool) -> Fault:
        """The fault for this request; 429 and 5xx are raised as Problems here."""
        faults = self.app.faults
        wait = faults.rate_limited()
        if wait is not None:
            raise ApiProblem(
                429, "rate-limited", "too many requests", headers={"Retry-After": str(wait)}
            )
        fault = faults.choose(write=write)
        retry = {"Retry-After": str(faults.config.retry_after)}
        if fault is Fault.THROTTLE:
            raise ApiProblem(429, "rate-limited", "too many requests", headers=retry)
        if fault is Fault.UNAVAILABLE:
            raise ApiProblem(faults.status_5xx(), "unavailable", "try again later", headers=retry)
        return fault

    @contextlib.contextmanager
    def claim_key(self, method: str) -> Iterator[None]:
        """Mark this POST's Idempotency-Key as in flight until the request is answered;
        a 409 when another request holds it. Anything but a POST with a well-formed key
        claims nothing (the route answers a missing or malformed key)."""
        key = self.headers.get("Idempotency-Key")
        if method != "POST" or key is None or not IDEMPOTENCY_KEY.match(key):
            yield
            return
        app = self.app
        with app.lock:
            if key in app.in_flight:
                raise ApiProblem(
                    409,
                    "idempotency-key-in-flight",
                    "a request with this Idempotency-Key is still in progress",
                    headers={"Retry-After": "1"},
                )
            app.in_flight.add(key)
        try:
            yield
        finally:
            with app.lock:
                app.in_flight.discard(key)

    def control(self, method: str, raw: bytes) -> Answer:
        """``GET``: the faults and how many of each were injected; ``POST`` a JSON object of
        fault settings (the options of ``sandbox serve``, as ``latency_ms``, ``fail_rate``,
        ...; any left out is off): the faults from now on. Never itself faulted. Only for a
        client on loopback, and with the API key when the server has one."""
        if not is_loopback(str(self.client_address[0])):
            raise ApiProblem(403, "forbidden", "the sandbox control is for loopback clients only")
        faults = self.app.faults
        if method == "GET":
            return 200, faults.snapshot(), {}
        if method != "POST":
            raise method_not_allowed(method, ("GET", "POST"))
        data = self.parse_body(method, raw)
        try:
            config = FaultConfig.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ApiProblem(
                422,
                "validation",
                "the fault settings are not valid",
                errors=[{"field": "(body)", "message": str(exc)}],
            ) from None
        faults.reconfigure(config)
        return 200, faults.snapshot(), {}

    def reset(self) -> None:
        """Abort the connection: with SO_LINGER 0, close sends a TCP RST rather than a FIN, so
        the client sees "connection reset by peer"."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def drop(self) -> None:
        """Close the connection without a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()

    def read_raw(self) -> bytes | None:
        """The request body as bytes (checked against the framing rules), or None when the
        client went away before sending all of it."""
        lengths = self.headers.get_all("Content-Length") or []
        length_header = lengths[0] if lengths else None
        # Only Content-Length framing, stated once: a Transfer-Encoding (of any coding) or a
        # second Content-Length is where a proxy and this server could read different request
        # boundaries (request smuggling); refused, and the connection closed.
        if self.headers.get("Transfer-Encoding") is not None:
            self.close_connection = True
            raise ApiProblem(411, "length-required", "send a Content-Length, not a chunked body")
        if len(lengths) > 1:
            self.close_connection = True
            raise ApiProblem(400, "bad-request", "Content-Length is given more than once")
        # ASCII digits only: str.isdigit() also takes "²", which int() then refuses
        if length_header is not None and not re.fullmatch(r"[0-9]+", length_header.strip()):
            self.close_connection = True
            raise ApiProblem(400, "bad-request", "Content-Length is not a non-negative integer")
        length = int(length_header) if length_header else 0
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiProblem(413, "payload-too-large", f"the body is over {MAX_BODY_BYTES} bytes")
        if not length:
            return b""
        try:
            raw = self.rfile.read(length)
        except OSError:  # a timeout or a reset mid-body
            raw = b""
        if len(raw) < length:
            self.close_connection = True
            return None
        return raw

    def parse_body(self, method: str, raw: bytes) -> Any:
        """The JSON body of a POST or PATCH (None for other methods, whose body is ignored)."""
        if method not in ("POST", "PATCH"):
            return None
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiProblem(415, "unsupported-media-type", "send the body as application/json")
        return parse_json(raw)

    def authenticate(self) -> None:
        """A 401 Problem unless the request carries the server's API key (if it has one)."""
        expected = self.app.api_key
        if expected is None:
            return
        given = self.headers.get("X-Sleekflow-Api-Key", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
            raise ApiProblem(401, "unauthorized", "missing or wrong X-Sleekflow-Api-Key")

    def send_json(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        problem: bool = False,
    ) -> None:
        """Send a response: ``payload`` as JSON (``problem``: as problem+json; None: no
        body), with ``headers``; a HEAD gets the headers only."""
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if payload is not None:
            ctype = "application/problem+json" if problem else "application/json"
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for name, value in self.app.faults.rate_headers().items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and getattr(self, "command", None) != "HEAD":
            self.wfile.write(data)
