"""The http backend: a SleekFlow workspace through the REST API of docs/api.md.

Every request goes through ``ApiClient`` (retries, timeouts, the key). Here: what each
``Backend`` call sends and how the answers become values.

- ``POST`` carries an ``Idempotency-Key`` that is the same for every retry of one intended
  change, so a create whose response was lost is replayed by the server, never duplicated.
  ``PATCH`` sets values (repeatable as is); a ``DELETE`` retried after a lost response that
  finds nothing is taken as done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from reconciler.backends.base import Capabilities
from reconciler.backends.http.client import ApiClient, RetryPolicy, segment
from reconciler.errors import BackendError
from reconciler.model import Channel, ChannelStatus, Link, WorkspaceState, fold, visible


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A backend for the API at ``base_url`` (``ApiClient`` says what each argument is,
        and raises ``BackendError`` for a URL or key it refuses)."""
        self.api = ApiClient(
            base_url,
            api_key,
            client=client,
            transport=transport,
            policy=policy,
            concurrency=concurrency,
            on_retry=on_retry,
            clock=clock,
        )
        self.description = self.api.description
        self.concurrency = self.api.concurrency

    def __repr__(self) -> str:
        """The backend's description; never its key."""
        return f"HttpBackend({self.description!r})"

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self.api.close()

    # --- reading -----------------------------------------------------------------------------

    def read(self) -> WorkspaceState:
        """Every channel with its links, read page by page (channels' links at once, up to
        ``concurrency``). Raises ``BackendError`` for a failed request or data of the wrong
        shape."""
        channels = list(self.api.pages("/v1/tiktok/channels", "list channels"))

        def links_of(raw: dict[str, Any]) -> Channel:
            cid = str(raw["id"])
            what = f"list links of {visible(str(raw['account']))}"
            pages = self.api.pages(f"/v1/tiktok/channels/{segment(cid)}/message-links", what)
            # The API lists links oldest first: that order is the creation order plan needs.
            links = tuple(_link(item, seq) for seq, item in enumerate(pages, start=1))
            return _channel(raw, links)

        try:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                result = list(pool.map(links_of, channels))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = visible(str(exc))[:200]
            raise BackendError(
                f"read workspace: unexpected data from the server ({reason})"
            ) from None
        return WorkspaceState(tuple(sorted(result, key=lambda c: fold(c.account))))

    # --- writing -----------------------------------------------------------------------------

    def connect_channel(self, account: str, display_name: str) -> Channel:
        """Always raises ``BackendError``: a channel is connected in SleekFlow's UI (OAuth)."""
        raise BackendError(
            f"channel {account} can't be connected over the API: connect it in SleekFlow "
            "(Channels > TikTok Business Messaging)"
        )

    def rename_channel(self, channel_id: str, display_name: str) -> Channel:
        """``PATCH`` the channel's display name; the channel as stored (without its links)."""
        what = f"rename channel {channel_id}"
        response = self.api.request(
            "PATCH",
            f"/v1/tiktok/channels/{segment(channel_id)}",
            what=what,
            json={"display_name": display_name},
        )
        return self.api.parsed(response, what, lambda data: _channel(data, ()))

    def remove_channel(self, channel_id: str) -> None:
        """``DELETE`` the channel; one already gone after a lost response counts as done."""
        self.api.request(
            "DELETE",
            f"/v1/tiktok/channels/{segment(channel_id)}",
            what=f"remove channel {channel_id}",
            missing_ok=True,
        )

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        """``POST`` a new link with ``key`` as its Idempotency-Key; the link as stored."""
        what = f"create link {title!r}"
        response = self.api.request(
            "POST",
            f"/v1/tiktok/channels/{segment(channel_id)}/message-links",
            what=what,
            json={"title": title, "ref": ref, "message": message},
            key=key,
        )
        return self.api.parsed(response, what, _link)

    def update_link(
        self, channel_id: str, link_id: str, *, title: str, ref: str | None, message: str
    ) -> Link:
        """``PATCH`` the link's values; the link as stored (a new URL if ref or message
        changed)."""
        what = f"update link {title!r}"
        response = self.api.request(
            "PATCH",
            f"/v1/tiktok/channels/{segment(channel_id)}/message-links/{segment(link_id)}",
            what=what,
            json={"title": title, "ref": ref, "message": message},
        )
        return self.api.parsed(response, what, _link)

    def remove_link(self, channel_id: str, link_id: str) -> None:
        """``DELETE`` the link; one already gone after a lost response counts as done."""
        self.api.request(
            "DELETE",
            f"/v1/tiktok/channels/{segment(channel_id)}/message-links/{segment(link_id)}",
            what=f"remove link {link_id}",
            missing_ok=True,
        )


def _channel(raw: dict[str, Any], links: tuple[Link, ...]) -> Channel:
    """A channel of the API's JSON as a value (``KeyError``/``ValueError`` when malformed)."""
    return Channel(
        id=str(raw["id"]),
        account=str(raw["account"]),
        display_name=str(raw["display_name"]),
        status=ChannelStatus(raw["status"]),
        links=links,
    )


def _link(raw: dict[str, Any], seq: int = 0) -> Link:
    """A link of the API's JSON as a value, ``seq`` its place in creation order."""
    return Link(
        id=str(raw["id"]),
        title=str(raw["title"]),
        ref=None if raw.get("ref") is None else str(raw["ref"]),
        message=str(raw["message"]),
        url=str(raw["url"]),
        seq=seq,
    )
