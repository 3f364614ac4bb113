"""``sandbox serve``: the HTTP API of docs/api.md over the local SQLite workspace.

Built on the standard library's ``ThreadingHTTPServer``: a handler owns its socket, so a
"dropped after commit" fault really is a closed connection with no response after the write
committed (an ASGI app can't do that under uvicorn: raising before responding becomes a 500,
a different fault). One SQLite connection per request, ``BEGIN IMMEDIATE`` for writes and a busy
timeout serialise writers.

Errors are RFC 9457 ``application/problem+json`` with a stable ``type``; bad input is a 4xx,
never a 500.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import re
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from reconciler.backends.local import IdempotencyMismatch, LocalBackend, TitleTaken
from reconciler.errors import BackendError, StoreError
from reconciler.sandbox.faults import Fault, FaultConfig, FaultInjector

MAX_BODY_BYTES = 64 * 1024
PROBLEM_BASE = "https://reconciler.dev/problems/"
_ID = r"([0-9]{1,18})"
_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("channels", re.compile(r"/v1/tiktok/channels/?")),
    ("channel", re.compile(rf"/v1/tiktok/channels/{_ID}")),
    ("links", re.compile(rf"/v1/tiktok/channels/{_ID}/message-links/?")),
    ("link", re.compile(rf"/v1/tiktok/channels/{_ID}/message-links/{_ID}")),
    ("openapi", re.compile(r"/openapi\.json")),
]
_ALLOWED = {
    "channels": {"GET"},
    "channel": {"GET", "PATCH", "DELETE"},
    "links": {"GET", "POST"},
    "link": {"GET", "PATCH", "DELETE"},
    "openapi": {"GET"},
}
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: The test control of ``sandbox serve --control``: read and change the faults of a running
#: server. Not part of the API (absent from the OpenAPI document): a 404 without --control.
CONTROL_PATH = "/_sandbox/faults"


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API (shipped in the package, served at /openapi.json)."""
    text = resources.files("reconciler").joinpath("schemas/openapi.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


class Problem(Exception):
    """An error response: RFC 9457 problem details."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def body(self, instance: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            data["errors"] = self.errors
        return data


@dataclass
class SandboxApp:
    """What every request handler shares: the store, the key, the faults, in-flight keys;
    ``control`` enables ``CONTROL_PATH`` (loopback clients only)."""

    store: Path
    api_key: str | None = field(default=None, repr=False)
    faults: FaultInjector = field(default_factory=lambda: FaultInjector(FaultConfig()))
    control: bool = False
    in_flight: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def backend(self) -> LocalBackend:
        return LocalBackend(self.store)


# --- validation against the OpenAPI component schemas ------------------------------------


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    doc = openapi()
    schema = dict(doc["components"]["schemas"][name])
    schema["$defs"] = doc["components"]["schemas"]
    return Draft202012Validator(schema)


def validate_body(name: str, data: Any) -> None:
    """Raise a 422 Problem listing every field error of a request body."""
    from reconciler.config import MESSAGE_LIMIT, utf16_len

    errors: list[dict[str, str]] = []
    for error in _validator(name).iter_errors(data):
        where = ".".join(str(p) for p in error.absolute_path) or "(body)"
        if error.validator == "additionalProperties":
            extra = sorted(set(data) - set(error.schema.get("properties", {})))
            errors.extend({"field": key, "message": "unknown field"} for key in extra)
            continue
        message = {
            "pattern": "must not be blank"
            if error.validator_value == "\\S"
            else f"does not match {error.validator_value}",
            "type": f"must be {error.validator_value}",
            "maxLength": f"must be at most {error.validator_value} characters",
            "minLength": "must not be empty",
            "required": error.message,
            "minProperties": "must change at least one field",
        }.get(error.validator, error.message)
        errors.append({"field": where, "message": message})
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        length = utf16_len(data["message"])
        if length > MESSAGE_LIMIT and len(data["message"]) <= MESSAGE_LIMIT:
            errors.append(
                {
                    "field": "message",
                    "message": f"is {length} UTF-16 code units; the limit is {MESSAGE_LIMIT}",
                }
            )
    if errors:
        raise Problem(422, "validation", "the request body is not valid", errors=errors)


# --- pagination ------------------------------------------------------------------------------


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, value = text.partition(":")
        if prefix != "after" or not value.isdigit() or len(value) > 18:
            raise ValueError(cursor)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(400, "bad-cursor", "cursor is not a next_cursor this API returned") from None


def page_params(query: dict[str, list[str]]) -> tuple[int, int]:
    limits = query.get("limit", ["50"])
    try:
        limit = int(limits[-1])
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise Problem(
            400,
            "validation",
            "limit must be an integer from 1 to 100",
            errors=[{"field": "limit", "message": "must be an integer from 1 to 100"}],
        )
    cursors = query.get("cursor")
    return limit, decode_cursor(cursors[-1]) if cursors else 0


# --- the handler -----------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "reconciler-sandbox"
    #: Seconds a connection may sit idle or stall mid-request before it is closed.
    timeout = 30
    #: Headers and body go out in two writes; with Nagle's algorithm the second waits for
    #: the client's delayed ACK, some 40 ms on every response.
    disable_nagle_algorithm = True
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # Every method the API has, and the common ones it hasn't (a 405 with an Allow header).
    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_HEAD(self) -> None:
        self.dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        self.dispatch("OPTIONS")

    def do_TRACE(self) -> None:
        self.dispatch("TRACE")

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the base class finds before a request reaches ``dispatch`` (a malformed
        request line, headers too long or too many, a method with no ``do_`` handler) as
        problems too, never its HTML page (nor a 501 for a method: that is a 405 here)."""
        self.close_connection = True
        path = _split(getattr(self, "path", None) or "").path
        if code == HTTPStatus.NOT_IMPLEMENTED and self.command:
            name = _route_name(path)
            if name is None:
                problem = Problem(404, "not-found", f"no such resource: {path}")
            else:
                allow = ", ".join(sorted(_ALLOWED[name]))
                problem = Problem(
                    405,
                    "method-not-allowed",
                    f"{self.command} is not allowed here",
                    headers={"Allow": allow},
                )
        else:
            kinds = {414: "uri-too-long", 431: "headers-too-large"}
            detail = message or HTTPStatus(code).phrase
            problem = Problem(code, kinds.get(code, "bad-request"), detail)
        with contextlib.suppress(OSError):
            self.send_json(problem.status, problem.body(path), problem.headers, problem=True)

    def finish(self) -> None:
        # The connection may have been dropped on purpose (a fault) or by the client.
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    # --- plumbing --------------------------------------------------------------------------

    def dispatch(self, method: str) -> None:
        """Answer one request: framing, auth, the route, the body, then faults and the work.

        Auth comes before the body is looked at, so a caller without the key learns nothing
        from a 400. An ``Idempotency-Key`` is claimed before the injected latency, so a
        second request with the key while the first waits is a 409, as with a slow server.
        """
        app = self.server.app
        path = _split(self.path).path
        fault = Fault.NONE
        write = method in ("POST", "PATCH", "DELETE")
        try:
            raw = self.read_raw()
            if raw is None:
                return  # the client went away mid-body
            self.authenticate()
            if app.control and path == CONTROL_PATH:
                status, payload = self.control(method, raw)
                self.send_json(status, payload)
                return
            handler, args = self.route(method, path)
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
                status, payload = handler(*args, body=body)
        except Problem as problem:
            self.send_json(problem.status, problem.body(path), problem.headers, problem=True)
            return
        except StoreError as exc:
            self.send_json(
                503,
                Problem(503, "store-unavailable", str(exc)).body(path),
                {"Retry-After": "1"},
                problem=True,
            )
            return
        except Exception:
            # A bug, not bad input: say so (500) rather than drop the connection unanswered.
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            bug = Problem(500, "internal-error", "the sandbox failed; see its stderr")
            self.send_json(500, bug.body(path), problem=True)
            return
        if write and fault is Fault.DROP_AFTER:
            self.drop()
            return
        self.send_json(status, payload)

    def inject_fault(self, *, write: bool) -> Fault:
        """The fault for this request; 429 and 5xx are raised as Problems here."""
        faults = self.server.app.faults
        wait = faults.rate_limited()
        if wait is not None:
            raise Problem(
                429, "rate-limited", "too many requests", headers={"Retry-After": str(wait)}
            )
        fault = faults.choose(write=write)
        retry = {"Retry-After": str(faults.config.retry_after)}
        if fault is Fault.THROTTLE:
            raise Problem(429, "rate-limited", "too many requests", headers=retry)
        if fault is Fault.UNAVAILABLE:
            raise Problem(faults.status_5xx(), "unavailable", "try again later", headers=retry)
        return fault

    @contextlib.contextmanager
    def claim_key(self, method: str) -> Iterator[None]:
        """Mark this POST's Idempotency-Key as in flight until the request is answered;
        a 409 when another request holds it. Anything but a POST with a well-formed key
        claims nothing (the route answers a missing or malformed key)."""
        key = self.headers.get("Idempotency-Key")
        if method != "POST" or key is None or not _IDEMPOTENCY_KEY.match(key):
            yield
            return
        app = self.server.app
        with app.lock:
            if key in app.in_flight:
                raise Problem(
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

    def control(self, method: str, raw: bytes) -> tuple[int, Any]:
        """``GET``: the faults and how many of each were injected; ``POST`` a JSON object of
        fault settings (the options of ``sandbox serve``, as ``latency_ms``, ``fail_rate``,
        ...; any left out is off): the faults from now on. Never itself faulted. Only for a
        client on loopback, and with the API key when the server has one."""
        if not is_loopback(str(self.client_address[0])):
            raise Problem(403, "forbidden", "the sandbox control is for loopback clients only")
        faults = self.server.app.faults
        if method == "GET":
            return 200, faults.snapshot()
        if method != "POST":
            raise Problem(
                405,
                "method-not-allowed",
                f"{method} is not allowed here",
                headers={"Allow": "GET, POST"},
            )
        data = self.parse_body(method, raw)
        try:
            config = FaultConfig.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise Problem(
                422,
                "validation",
                "the fault settings are not valid",
                errors=[{"field": "(body)", "message": str(exc)}],
            ) from None
        faults.reconfigure(config)
        return 200, faults.snapshot()

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
            raise Problem(411, "length-required", "send a Content-Length, not a chunked body")
        if len(lengths) > 1:
            self.close_connection = True
            raise Problem(400, "bad-request", "Content-Length is given more than once")
        # ASCII digits only: str.isdigit() also takes "²", which int() then refuses
        if length_header is not None and not re.fullmatch(r"[0-9]+", length_header.strip()):
            self.close_connection = True
            raise Problem(400, "bad-request", "Content-Length is not a non-negative integer")
        length = int(length_header) if length_header else 0
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise Problem(413, "payload-too-large", f"the body is over {MAX_BODY_BYTES} bytes")
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
            raise Problem(415, "unsupported-media-type", "send the body as application/json")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Problem(400, "bad-json", f"the body is not valid JSON: {exc}") from None
        except RecursionError:
            raise Problem(400, "bad-json", "the body is nested too deeply") from None
        try:
            # Valid JSON can spell a lone surrogate ("\ud800"): that is not text, and could
            # be neither stored nor sent back as UTF-8.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Problem(400, "bad-json", "the body has a lone surrogate (not Unicode)") from None
        except RecursionError:
            raise Problem(400, "bad-json", "the body is nested too deeply") from None
        return data

    def authenticate(self) -> None:
        expected = self.server.app.api_key
        if expected is None:
            return
        given = self.headers.get("X-Sleekflow-Api-Key", "")
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
            raise Problem(401, "unauthorized", "missing or wrong X-Sleekflow-Api-Key")

    def send_json(
        self,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        *,
        problem: bool = False,
    ) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        if payload is not None:
            ctype = "application/problem+json" if problem else "application/json"
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and getattr(self, "command", None) != "HEAD":
            self.wfile.write(data)

    # --- routes ----------------------------------------------------------------------------

    def route(self, method: str, path: str) -> tuple[Callable[..., tuple[int, Any]], list[str]]:
        """The method that answers ``method path`` and its path arguments; 404 or 405."""
        for name, pattern in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method not in _ALLOWED[name]:
                allow = ", ".join(sorted(_ALLOWED[name]))
                raise Problem(
                    405,
                    "method-not-allowed",
                    f"{method} is not allowed here",
                    headers={"Allow": allow},
                )
            return getattr(self, f"{method.lower()}_{name}"), list(match.groups())
        raise Problem(404, "not-found", f"no such resource: {path}")

    def query(self) -> dict[str, list[str]]:
        return parse_qs(_split(self.path).query, keep_blank_values=True)

    def backend_call(self, func: Callable[[LocalBackend], Any]) -> Any:
        backend = self.server.app.backend()
        try:
            return func(backend)
        except IdempotencyMismatch as exc:
            raise Problem(422, "idempotency-key-reused", str(exc)) from None
        except TitleTaken as exc:
            raise Problem(409, "title-taken", str(exc)) from None
        except StoreError:
            raise
        except BackendError as exc:
            raise Problem(404, "not-found", str(exc)) from None
        finally:
            backend.close()

    def get_openapi(self, body: Any) -> tuple[int, Any]:
        return 200, openapi()

    def get_channels(self, body: Any) -> tuple[int, Any]:
        limit, after = page_params(self.query())
        rows = self.backend_call(lambda b: b.page_channels(after=after, limit=limit + 1))
        return 200, _page(rows, limit)

    def get_channel(self, channel_id: str, body: Any) -> tuple[int, Any]:
        return 200, self.backend_call(lambda b: b.channel_data(channel_id))

    def patch_channel(self, channel_id: str, body: Any) -> tuple[int, Any]:
        validate_body("ChannelPatch", body)
        self.backend_call(lambda b: b.rename_channel(channel_id, body["display_name"]))
        return 200, self.backend_call(lambda b: b.channel_data(channel_id))

    def delete_channel(self, channel_id: str, body: Any) -> tuple[int, Any]:
        self.backend_call(lambda b: b.remove_channel(channel_id))
        return 204, None

    def get_links(self, channel_id: str, body: Any) -> tuple[int, Any]:
        limit, after = page_params(self.query())
        rows = self.backend_call(lambda b: b.page_links(channel_id, after=after, limit=limit + 1))
        return 200, _page(rows, limit)

    def get_link(self, channel_id: str, link_id: str, body: Any) -> tuple[int, Any]:
        return 200, self.backend_call(lambda b: b.link_data(channel_id, link_id))

    def post_links(self, channel_id: str, body: Any) -> tuple[int, Any]:
        key = self.headers.get("Idempotency-Key")
        if key is None or not _IDEMPOTENCY_KEY.match(key):
            raise Problem(
                400,
                "idempotency-key-required",
                "POST needs an Idempotency-Key header: 1-255 visible ASCII characters",
            )
        validate_body("LinkCreate", body)
        # The key is claimed (in flight) by ``dispatch`` for the whole request.
        self.backend_call(
            lambda b: b.create_link(
                channel_id,
                title=body["title"],
                ref=body.get("ref"),
                message=body["message"],
                key=key,
            )
        )
        # The answer is the one recorded with the key, so a replay gets the very same body.
        return 201, self.backend_call(lambda b: b.idempotent_response(key))

    def patch_link(self, channel_id: str, link_id: str, body: Any) -> tuple[int, Any]:
        validate_body("LinkPatch", body)

        def edit(b: LocalBackend) -> Any:
            current = b.link_data(channel_id, link_id)
            wanted = {
                "title": body.get("title", current["title"]),
                "ref": body["ref"] if "ref" in body else current["ref"],
                "message": body.get("message", current["message"]),
            }
            # Setting what is already there changes nothing (no new history entry, same
            # updated_at): a PATCH repeated after a lost response is a no-op.
            if any(current[name] != value for name, value in wanted.items()):
                b.update_link(channel_id, link_id, **wanted)
            return b.link_data(channel_id, link_id)

        return 200, self.backend_call(edit)

    def delete_link(self, channel_id: str, link_id: str, body: Any) -> tuple[int, Any]:
        self.backend_call(lambda b: b.remove_link(channel_id, link_id))
        return 204, None


def _route_name(path: str) -> str | None:
    """The name of the route ``path`` is, or None."""
    return next((name for name, pattern in _ROUTES if pattern.fullmatch(path)), None)


def _split(target: str) -> SplitResult:
    """The parts of a request target; one ``urlsplit`` refuses (``http://[x``) is taken as a
    bare path, which then matches no route (404)."""
    try:
        return urlsplit(target)
    except ValueError:
        return SplitResult("", "", target, "", "")


def _page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(int(rows[-1]["id"])) if more and rows else None
    return {"data": rows, "next_cursor": cursor}


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        if ":" in address[0]:  # an IPv6 address such as ::1 needs an IPv6 socket
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is not an error of the server's: say nothing.
        Anything else is printed with its traceback, as the base class does."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(
    app: SandboxApp, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> SandboxServer:
    """A server bound to ``host:port`` (port 0 picks a free one), not yet serving."""
    return SandboxServer((host, port), app, verbose=verbose)
