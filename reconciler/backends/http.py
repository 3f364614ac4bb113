"""The http backend: the REST API of docs/api.md through httpx.

- Timeouts on connect and read; bounded retries with exponential backoff and jitter (stamina)
  on 429/502/503/504 and connection errors, honouring ``Retry-After`` (seconds or HTTP-date),
  capped, within an overall deadline per request.
- ``POST`` carries an ``Idempotency-Key`` that is the same for every retry of one intended
  change, so a create whose response was lost is replayed by the server, never duplicated.
  ``PATCH`` sets values (repeatable as is); a ``DELETE`` retried after a lost response that
  finds nothing is taken as done.
- The API key is sent as ``X-Sleekflow-Api-Key`` and appears in no message, repr or log.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from reconciler.backends.base import Capabilities
from reconciler.errors import BackendError
from reconciler.model import Channel, ChannelStatus, Link, WorkspaceState

RETRY_STATUSES = frozenset({429, 502, 503, 504})
PAGE_LIMIT = 100


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


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


def _problem_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}"
    if not isinstance(data, dict):
        return f"HTTP {response.status_code}"
    detail = str(data.get("detail") or data.get("title") or f"HTTP {response.status_code}")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts = [f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict)]
        detail += " (" + "; ".join(parts) + ")"
    return detail


class HttpBackend:
    """A SleekFlow workspace over HTTP. ``client`` (or ``transport``) is injectable for tests."""

    capabilities = Capabilities(can_connect=False, parallel_writes=True)

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        concurrency: int = 8,
        on_retry: Callable[[str, int, str], None] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(f"--api-url must be an http:// or https:// URL, not {base_url!r}")
        headers = {"Accept": "application/json", "User-Agent": "reconciler"}
        if api_key:
            headers["X-Sleekflow-Api-Key"] = api_key
        self.description = f"SleekFlow API {base_url}"
        self.policy = policy or RetryPolicy()
        self.concurrency = max(1, concurrency)
        self._on_retry = on_retry
        self._client = client or httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(30.0, connect=5.0),
            transport=transport,
            limits=httpx.Limits(max_connections=self.concurrency + 2),
        )
        if client is not None and api_key:
            self._client.headers["X-Sleekflow-Api-Key"] = api_key

    def __repr__(self) -> str:
        return f"HttpBackend({self.description!r})"

    def close(self) -> None:
        self._client.close()

    # --- the one request path ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response | None:
        """Send one request with retries. Returns the response (None for a retried DELETE
        that found the resource already gone), or raises ``BackendError`` naming ``what``."""
        headers = {"Idempotency-Key": key} if key else None
        policy = self.policy
        last_error = ""

        def backoff(exc: Exception) -> bool | float:
            nonlocal last_error
            if isinstance(exc, _Retryable):
                last_error = f"HTTP {exc.response.status_code}: {_problem_detail(exc.response)}"
                wait: bool | float = True
                if exc.retry_after is not None:
                    wait = min(exc.retry_after, policy.retry_after_max)
            elif isinstance(exc, httpx.TransportError):
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                wait = True
            else:
                return False
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
                    response = self._client.request(
                        method, path, json=json, params=params, headers=headers
                    )
                    if response.status_code in RETRY_STATUSES:
                        raise _Retryable(
                            response, parse_retry_after(response.headers.get("Retry-After"))
                        )
        except (_Retryable, httpx.TransportError):
            raise BackendError(
                f"{what}: gave up after {attempt_number} "
                f"attempt{'s' if attempt_number != 1 else ''}: {last_error}"
            ) from None
        except (
            httpx.HTTPError
        ) as exc:  # pragma: no cover - every HTTPError is a TransportError here
            raise BackendError(f"{what}: {type(exc).__name__}") from None
        if response.status_code == 404 and missing_ok and attempt_number > 1:
            return None
        if response.status_code >= 400:
            raise BackendError(f"{what}: HTTP {response.status_code}: {_problem_detail(response)}")
        return response

    def _json(self, response: httpx.Response | None, what: str) -> Any:
        assert response is not None
        try:
            return response.json()
        except ValueError:
            raise BackendError(
                f"{what}: the server answered with something that is not JSON"
            ) from None

    def _pages(self, path: str, what: str) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_LIMIT}
            if cursor:
                params["cursor"] = cursor
            data = self._json(self.request("GET", path, what=what, params=params), what)
            try:
                yield from data["data"]
                cursor = data["next_cursor"]
            except (KeyError, TypeError):
                raise BackendError(f"{what}: the server's page has no data/next_cursor") from None
            if not cursor:
                return

    # --- reading -----------------------------------------------------------------------------

    def read(self) -> WorkspaceState:
        channels = list(self._pages("/v1/tiktok/channels", "list channels"))

        def links_of(raw: dict[str, Any]) -> Channel:
            cid = str(raw["id"])
            what = f"list links of {raw['account']}"
            pages = self._pages(f"/v1/tiktok/channels/{cid}/message-links", what)
            # The API lists links oldest first: that order is the creation order plan needs.
            links = tuple(_link(item, seq) for seq, item in enumerate(pages, start=1))
            return _channel(raw, links)

        try:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                result = list(pool.map(links_of, channels))
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"read workspace: unexpected data from the server ({exc})") from None
        return WorkspaceState(tuple(sorted(result, key=lambda c: c.account.casefold())))

    # --- writing -----------------------------------------------------------------------------

    def connect_channel(self, account: str, display_name: str) -> Channel:
        raise BackendError(
            f"channel {account} can't be connected over the API: connect it in SleekFlow "
            "(Channels > TikTok Business Messaging)"
        )

    def rename_channel(self, channel_id: str, display_name: str) -> Channel:
        what = f"rename channel {channel_id}"
        response = self.request(
            "PATCH",
            f"/v1/tiktok/channels/{channel_id}",
            what=what,
            json={"display_name": display_name},
        )
        return _channel(self._json(response, what), ())

    def remove_channel(self, channel_id: str) -> None:
        self.request(
            "DELETE",
            f"/v1/tiktok/channels/{channel_id}",
            what=f"remove channel {channel_id}",
            missing_ok=True,
        )

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        what = f"create link {title!r}"
        response = self.request(
            "POST",
            f"/v1/tiktok/channels/{channel_id}/message-links",
            what=what,
            json={"title": title, "ref": ref, "message": message},
            key=key,
        )
        return _link(self._json(response, what))

    def update_link(
        self, channel_id: str, link_id: str, *, title: str, ref: str | None, message: str
    ) -> Link:
        what = f"update link {title!r}"
        response = self.request(
            "PATCH",
            f"/v1/tiktok/channels/{channel_id}/message-links/{link_id}",
            what=what,
            json={"title": title, "ref": ref, "message": message},
        )
        return _link(self._json(response, what))

    def remove_link(self, channel_id: str, link_id: str) -> None:
        self.request(
            "DELETE",
            f"/v1/tiktok/channels/{channel_id}/message-links/{link_id}",
            what=f"remove link {link_id}",
            missing_ok=True,
        )


def _channel(raw: dict[str, Any], links: tuple[Link, ...]) -> Channel:
    return Channel(
        id=str(raw["id"]),
        account=str(raw["account"]),
        display_name=str(raw["display_name"]),
        status=ChannelStatus(raw["status"]),
        links=links,
    )


def _link(raw: dict[str, Any], seq: int = 0) -> Link:
    return Link(
        id=str(raw["id"]),
        title=str(raw["title"]),
        ref=None if raw.get("ref") is None else str(raw["ref"]),
        message=str(raw["message"]),
        url=str(raw["url"]),
        seq=seq,
    )
