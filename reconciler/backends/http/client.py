"""One request path to the REST API of docs/api.md, through httpx: the ``ApiClient``.

- Timeouts on connect and read; bounded retries with exponential backoff and jitter (stamina)
  on 429/502/503/504 and connection errors, honouring ``Retry-After`` (seconds or HTTP-date),
  capped, within an overall deadline per request (reading an answer a byte at a time too; an
  attempt begun gets a read timeout at least: over by that much at most).
- A ``409 idempotency-key-in-flight`` (the same create still running after a timeout) is
  retried like a 429.
- Every attempt waits its turn with the client's ``Pacer`` (``pacing``), shared by every
  thread: the API's rate limit, stated in its headers or learnt from its 429s, is kept to by
  spacing requests rather than met with refusals.
- A conditional write carries ``If-Match``; its ``412`` is never retried: a
  ``WorkspaceChanged`` (or, for a retry, left to the caller to tell from its own write).
- The API key is sent as ``X-Sleekflow-Api-Key`` and appears in no message, repr or log; a
  key that could not be sent as a header is refused before any request (httpx's own error
  would quote it).
- A redirect is not followed (the key goes to the API URL only): an error naming where it
  points. An answer the transport can't read (too large, not the coding it says) is an error,
  not asked for again.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
import time
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import stamina

from reconciler.backends.http.pacing import Pacer, parse_retry_after
from reconciler.backends.http.transport import READ_TIMEOUT, TIMEOUTS, transport_for
from reconciler.errors import BackendError, WorkspaceChanged
from reconciler.model import visible
from reconciler.net import environment_proxy, parse_api_url, without_credentials
from reconciler.words import plural

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Network failures worth another attempt: refused, reset, dropped, timed out.
TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
#: A 409 with this problem type means "the same create is still running": wait and retry.
IN_FLIGHT = "https://reconciler.dev/problems/idempotency-key-in-flight"
PAGE_LIMIT = 100
#: Empty pages in a row, each with a next cursor, after which a list is an error, not a loop.
MAX_EMPTY_PAGES = 100
#: What an API key may be: printable ASCII, no surrounding space (a header value).
_API_KEY = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")

# stamina logs every scheduled retry through the standard library; with no logging set up
# those records would reach stderr via logging's last-resort handler, next to the CLI's own
# "retrying ..." lines. An application that configures logging still gets them.
logging.getLogger("stamina").addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one request. ``deadline`` bounds all attempts and waits together."""

    attempts: int = 8
    deadline: float = 60.0
    wait_initial: float = 0.2
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    retry_after_max: float = 30.0


class _Retryable(Exception):
    """A response worth retrying (429/502/503/504), with the server's Retry-After if any."""

    def __init__(self, response: httpx.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


def _problem_detail(response: httpx.Response) -> str:
    """What the server said was wrong, made safe to print (it is the server's text)."""
    try:
        data = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return visible(response.reason_phrase or f"HTTP {response.status_code}")
    if not isinstance(data, dict):
        return f"HTTP {response.status_code}"
    detail = str(data.get("detail") or data.get("title") or f"HTTP {response.status_code}")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts = [f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict)]
        detail += " (" + "; ".join(parts) + ")"
    return visible(detail[:1000])


def _in_flight(response: httpx.Response) -> bool:
    """A 409 saying the same Idempotency-Key is still being processed."""
    if response.status_code != 409:
        return False
    try:
        data = response.json()
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return False
    return isinstance(data, dict) and data.get("type") == IN_FLIGHT


def segment(ident: str) -> str:
    """An id from the server as one path segment (an id like "../x" can't move the path)."""
    return quote(str(ident), safe="")


class _Secret:
    """A value that must never be shown: its repr (in a ``--debug`` traceback, say) hides it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


def _lasts(exc: BaseException) -> bool:
    """True when a connection failed for good: a name that doesn't resolve, a bad certificate."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror | ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class ApiClient:
    """The API at one URL, with one key: every request goes through ``request``.
    ``transport`` is injectable for tests."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        concurrency: int = 8,
        on_retry: Callable[[str, int, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A client of the API at ``base_url``, sending ``api_key`` (if any) with every
        request; ``concurrency`` bounds the requests in flight, ``on_retry(what, attempt,
        error)`` hears of each retry, ``clock`` times the retry deadline.

        Raises ``BackendError`` for a URL ``net.parse_api_url`` refuses, a key that would go
        in clear text to a host not on loopback, a clear-text URL not on loopback that the
        environment's proxy would carry, or a key that can't be a header. A loopback URL
        never goes through a proxy from the environment.
        """
        try:
            api_url = parse_api_url(base_url)
        except ValueError as exc:
            raise BackendError(f"--api-url {visible(str(exc))}") from None
        shown_url = visible(api_url.shown)
        host = visible(api_url.host)
        if api_key and api_url.scheme == "http" and not api_url.loopback:
            raise BackendError(
                f"refusing to send SLEEKFLOW_API_KEY in clear text to {host}: use "
                "an https:// --api-url (plain http is for the loopback sandbox only)"
            )
        proxy = environment_proxy(api_url)
        if proxy is not None and api_url.scheme == "http" and not api_url.loopback:
            raise BackendError(
                f"refusing to send requests to {host} in clear text through the proxy of "
                f"{visible(without_credentials(proxy))}: use an https:// --api-url"
            )
        if api_key and not _API_KEY.fullmatch(api_key):
            # Never quote the key, not even a part of it.
            raise BackendError(
                "SLEEKFLOW_API_KEY can't be sent as a header: it must be printable ASCII "
                "with no leading or trailing space (is there a stray newline?)"
            )
        self.description = f"SleekFlow API {shown_url}"
        #: The API's URL, without credentials or a trailing slash: where a plan says it is for.
        self.url = shown_url
        self.policy = policy or RetryPolicy()
        self.concurrency = max(1, concurrency)
        self._on_retry = on_retry
        self._clock = clock
        #: When each request may start: one pacer for every thread using this client.
        self.pacer = Pacer(max_wait=self.policy.retry_after_max)
        self._closed = False
        self._headers = {"Accept": "application/json", "User-Agent": "reconciler"}
        try:
            origin = httpx.URL(api_url.url)
            _ = origin.host  # a host IDNA refuses (xn--a) fails here
        except (httpx.InvalidURL, ValueError):
            raise BackendError(f"--api-url {shown_url!r} is not a valid URL") from None
        # Credentials in the URL are sent as Basic authentication when there is no key (for a
        # gateway in front of the API), never in the request line; the key wins over them.
        self._base = str(origin.copy_with(userinfo=b"")).rstrip("/")
        self._key: tuple[str, _Secret] | None = None
        if api_key:
            self._key = ("X-Sleekflow-Api-Key", _Secret(api_key))
        elif origin.userinfo:
            basic = f"{origin.username}:{origin.password}".encode()
            self._key = ("Authorization", _Secret("Basic " + b64encode(basic).decode("ascii")))
        self._transport = transport or transport_for(
            origin, proxy, connections=self.concurrency + 2
        )

    def __repr__(self) -> str:
        """The client's description; never its key."""
        return f"ApiClient({self.description!r})"

    def close(self) -> None:
        """Close the client's connections; a request under way finishes, and is not retried."""
        self._closed = True
        self._transport.close()

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        *,
        deadline: float,
    ) -> httpx.Response:
        """One attempt: the request built (the key added here, and only here) and sent
        through the transport, its response read whole within ``deadline`` seconds (a
        transport that honours it: ``KeepAliveTransport``). Raises httpx's errors."""
        sent = {**self._headers, **headers}
        if self._key is not None:
            name, secret = self._key
            sent[name] = secret.value
        request = httpx.Request(
            method,
            self._base + path,
            params=params,
            json=json,
            headers=sent,
            extensions={"timeout": TIMEOUTS, "deadline": deadline},
        )
        response = self._transport.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        response.request = request
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        if_match: int | None = None,
        missing_ok: bool = False,
        changed_ok: bool = False,
    ) -> httpx.Response | None:
        """Send one request with retries: ``key`` as its ``Idempotency-Key``, ``if_match``
        (a version) as its ``If-Match``. Returns the response, or None for a retry that found
        the resource already gone (a 404, with ``missing_ok``) or already moved (a 412, with
        ``changed_ok``: maybe by this request's own lost attempt). Raises
        ``WorkspaceChanged`` for any other 412, ``BackendError`` naming ``what`` for any
        other failure."""
        headers: dict[str, str] = {}
        if key:
            headers["Idempotency-Key"] = key
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        policy = self.policy
        last_error = ""
        started = self._clock()

        def backoff(exc: Exception) -> bool | float:
            """Whether (and how long) to wait and retry. The stop rules (attempts, deadline)
            are decided here rather than left to stamina, so ``on_retry`` hears only of
            retries that really follow."""
            nonlocal last_error
            wait: bool | float = True
            if isinstance(exc, _Retryable):
                last_error = f"HTTP {exc.response.status_code}: {_problem_detail(exc.response)}"
                if exc.retry_after is not None:
                    wait = min(exc.retry_after, policy.retry_after_max)
            elif isinstance(exc, TRANSIENT):
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if _lasts(exc):
                    return False
            else:
                return False
            if self._closed:
                return False
            elapsed = self._clock() - started
            if attempt_number >= policy.attempts or elapsed >= policy.deadline:
                return False
            if not isinstance(wait, bool) and elapsed + wait > policy.deadline:
                return False  # the server asks for a wait past the deadline: stop now
            if self._on_retry is not None:
                self._on_retry(what, attempt_number, last_error)
            return wait

        attempt_number = 0
        try:
            for attempt in stamina.retry_context(
                on=backoff,
                attempts=policy.attempts,
                timeout=policy.deadline,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
                wait_jitter=policy.wait_jitter,
            ):
                with attempt:
                    attempt_number = attempt.num
                    if self._closed:
                        raise BackendError(f"{what}: the client was closed")
                    sent = self.pacer.wait()
                    # what is left of the deadline, one read timeout at least (after the pacer)
                    first = min(policy.deadline, READ_TIMEOUT)
                    left = max(policy.deadline - (self._clock() - started), first)
                    response = self._send(method, path, json, params, headers, deadline=left)
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    self.pacer.observe(
                        response.status_code, response.headers, sent=sent, retry_after=retry_after
                    )
                    if response.status_code in RETRY_STATUSES or _in_flight(response):
                        raise _Retryable(response, retry_after)
        except (_Retryable, *TRANSIENT):
            raise BackendError(
                f"{what}: gave up after {plural(attempt_number, 'attempt')}: {last_error}"
            ) from None
        except httpx.DecodingError as exc:
            # An answer too large or not in the coding it says (the transport's own words):
            # not asked for again, as it would be the same.
            raise BackendError(f"{what}: the server's answer could not be read: {exc}") from None
        except httpx.HTTPError as exc:
            # Not the network: the request itself could not be sent (a bad header, a proxy
            # refusing it). No retry, and not httpx's words, which may quote a header value.
            raise BackendError(
                f"{what}: the request could not be sent ({type(exc).__name__})"
            ) from None
        if response.status_code == 404 and missing_ok and attempt_number > 1:
            return None
        if response.status_code == 412:
            if changed_ok and attempt_number > 1:
                return None
            raise WorkspaceChanged(
                f"{what}: changed in the workspace since it was planned "
                f"(HTTP 412: {_problem_detail(response)})",
                given=if_match,
            )
        if 300 <= response.status_code < 400 and "Location" in response.headers:
            where = visible(without_credentials(response.headers["Location"])[:500])
            raise BackendError(
                f"{what}: HTTP {response.status_code}: {_problem_detail(response)}: the API "
                f"redirects to {where}, not followed (requests and the key go to --api-url only)"
            )
        if not 200 <= response.status_code < 300:
            raise BackendError(f"{what}: HTTP {response.status_code}: {_problem_detail(response)}")
        return response

    def json(self, response: httpx.Response | None, what: str) -> Any:
        """The JSON body of ``response``; a body that isn't JSON is a ``BackendError``."""
        assert response is not None
        try:
            return response.json()
        except (ValueError, RecursionError):
            raise BackendError(
                f"{what}: the server answered with something that is not JSON"
            ) from None

    def parsed(self, response: httpx.Response | None, what: str, parse: Callable[[Any], T]) -> T:
        """``parse`` of the JSON of ``response``; data of the wrong shape is a BackendError."""
        data = self.json(response, what)
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BackendError(f"{what}: unexpected data from the server") from None

    def pages(
        self, path: str, what: str, query: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (``query``: its parameters beyond the paging),
        following ``next_cursor`` until it is null.

        A page without ``data`` and ``next_cursor`` is an error rather than the last page: a
        workspace read short would plan creates for links that exist. So are cursors that go
        round in circles, and more than ``MAX_EMPTY_PAGES`` empty pages in a row."""
        cursor: str | None = None
        seen: set[str] = set()
        empty = 0
        while True:
            params: dict[str, Any] = {**(query or {}), "limit": PAGE_LIMIT}
            if cursor:
                params["cursor"] = cursor
            data = self.json(self.request("GET", path, what=what, params=params), what)
            if not isinstance(data, dict) or not isinstance(data.get("data"), list):
                raise BackendError(f"{what}: the server's page has no data list")
            if "next_cursor" not in data:
                raise BackendError(f"{what}: the server's page has no next_cursor")
            yield from data["data"]
            cursor = data["next_cursor"]
            if cursor is None or cursor == "":
                return
            if not isinstance(cursor, str):
                raise BackendError(f"{what}: the server's next_cursor is not a string")
            if cursor in seen:
                raise BackendError(f"{what}: the server's next_cursor goes round in circles")
            seen.add(cursor)
            empty = 0 if data["data"] else empty + 1
            if empty > MAX_EMPTY_PAGES:
                raise BackendError(f"{what}: the server's pages go on empty")
