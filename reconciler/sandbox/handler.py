"""The request handler of ``sandbox serve``: HTTP framing, auth, injected faults and the
problem responses around the API's routes (``routes.Api``).

A handler owns its socket, so a "dropped after commit" fault really is a closed connection
with no response after the write committed, and a reset is a TCP RST.
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import socket
import struct
import sys
import traceback
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, overload

from reconciler.backends.local.api import StoreApi
from reconciler.backends.local.shapes import encoded
from reconciler.errors import ApiProblem, StoreError
from reconciler.net import is_loopback
from reconciler.sandbox import framing
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


class Handler(BaseHTTPRequestHandler):
    """Answers the requests of one connection to a sandbox server, for ``app``; ``verbose``
    logs each request. A server makes it with ``functools.partial(Handler, app=...,
    verbose=...)``, as ``http.server`` does for its ``directory``."""

    protocol_version = "HTTP/1.1"
    server_version = "reconciler-sandbox"
    #: Seconds a connection may sit idle or stall mid-request before it is closed.
    timeout = 30
    #: A response goes out in one write; with Nagle's algorithm, an error the base class
    #: writes in two would wait for the client's delayed ACK, some 40 ms.
    disable_nagle_algorithm = True
    #: The request line as read (set by the base class's ``handle_one_request``).
    raw_requestline: bytes

    def __init__(self, *args: Any, app: SandboxApp, verbose: bool = False) -> None:
        # Set before the base class's __init__, which handles the whole connection.
        self.app = app
        self.verbose = verbose
        self._store: StoreApi | None = None
        #: The request's headers by name in lower case (``framing.Head.fields``).
        self.fields: dict[str, list[str]] = {}
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

    @overload
    def header(self, name: str) -> str | None: ...
    @overload
    def header(self, name: str, default: str) -> str: ...
    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of the request's header ``name`` (case ignored), else ``default``."""
        values = self.fields.get(name.lower())
        return values[0] if values else default

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
        """The request line, read as the base class reads it (the same checks and errors),
        then its headers (``framing.read_headers``: a 431 past http.client's limits). A
        header line that is not ``name: value`` (a space before the colon,
        ``Transfer-Encoding : chunked``) would end the headers early and leave the rest to be
        read as a body or a next request, so it is a 400; so is a header folded over two
        lines (obs-fold), and a line with a bare CR in it."""
        self.command = ""  # none yet: what an error before it is known sees
        self.fields = {}
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        if not self.requestline.split():
            return False
        line = framing.request_line(self.requestline)
        self.request_version = line.version
        if line.refusal is not None:
            self.send_error(*line.refusal)
            return False
        self.command, self.path = line.command, line.path
        self.close_connection = not line.keep_alive
        try:
            head = framing.read_headers(self.rfile)
        except http.client.LineTooLong as err:
            self.send_error(431, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(431, "Too many headers", str(err))
            return False
        if head is None:
            self.send_error(
                400,
                "a header line is not 'name: value' (a space before the colon, a line "
                "folded onto the next, or a CR inside a line)",
            )
            return False
        self.headers, self.fields = head.message, head.fields
        connection = self.header("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expect = self.header("Expect", "").lower()
        if expect == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
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
        target = split_target(self.path)
        path = target.path
        fault = Fault.NONE
        write = method in ("POST", "PATCH", "DELETE")
        try:
            app.check_host(self.fields.get("host", []))
            try:
                raw = framing.read_body(self.fields, self.rfile)
            except ApiProblem:
                self.close_connection = True  # where this request ends is not known
                raise
            if raw is None:
                self.close_connection = True
                return  # the client went away mid-body
            self.authenticate()
            if app.control and path == CONTROL_PATH:
                status, payload, headers = self.control(method, raw)
                self.send_json(status, payload, headers)
                return
            api = Api(
                self.store,
                target,
                self.header("Idempotency-Key"),
                self.fields.get("if-match", []),
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
        key = self.header("Idempotency-Key")
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

    def parse_body(self, method: str, raw: bytes) -> Any:
        """The JSON body of a POST or PATCH (None for other methods, whose body is ignored)."""
        if method not in ("POST", "PATCH"):
            return None
        ctype = self.header("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiProblem(415, "unsupported-media-type", "send the body as application/json")
        return parse_json(raw)

    def authenticate(self) -> None:
        """A 401 Problem unless the request carries the server's API key (if it has one)."""
        expected = self.app.api_key
        if expected is None:
            return
        given = self.header("X-Sleekflow-Api-Key", "")
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
        """Send a response, in one write: ``payload`` as JSON (``problem``: as problem+json;
        None: no body; bytes: JSON already written), with ``headers``; a HEAD gets the headers
        only."""
        data = (
            payload if isinstance(payload, bytes) else b"" if payload is None else encoded(payload)
        )
        fields = []
        if payload is not None:
            ctype = "application/problem+json" if problem else "application/json"
            fields.append(("Content-Type", ctype))
        fields.append(("Content-Length", str(len(data))))
        fields.extend((headers or {}).items())
        fields.extend(self.app.faults.rate_headers().items())
        if self.close_connection:
            fields.append(("Connection", "close"))
        self.log_request(status)
        body = b"" if getattr(self, "command", None) == "HEAD" else data
        if self.request_version == "HTTP/0.9":
            self.wfile.write(body)  # a request without a version gets no head
            return
        server = self.version_string()
        self.wfile.write(
            framing.response(self.protocol_version, status, fields, body, server=server)
        )
