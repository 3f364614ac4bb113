"""The http backend: a SleekFlow workspace through the REST API of docs/api.md.

Every request goes through ``ApiClient`` (retries, timeouts, the key). Here: what each
``Backend`` call sends and how the answers become values.

- ``POST`` carries an ``Idempotency-Key`` that is the same for every retry of one intended
  change, so a create whose response was lost is replayed by the server, never duplicated.
- ``PATCH`` and ``DELETE`` carry ``If-Match``: the version the plan saw. A ``412`` is
  ``WorkspaceChanged``, never retried, with two exceptions for a retry after a lost response
  (whose first attempt may have committed, and so moved the version itself): a ``DELETE`` that
  finds nothing is done; a ``PATCH`` that meets ``412`` reads the resource back, and is done
  when it holds the values sent.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import httpx

from reconciler.backends.base import Capabilities
from reconciler.backends.http.client import ApiClient, RetryPolicy, segment
from reconciler.errors import BackendError, WorkspaceChanged
from reconciler.events import LinkEvent, UrlEvent, as_utc
from reconciler.model import (
    Channel,
    ChannelStatus,
    Link,
    WorkspaceRef,
    WorkspaceState,
    fold,
    visible,
)

#: A channel or a link.
R = TypeVar("R", Channel, Link)
#: What a workspace id may be: printable ASCII, 1-200 characters (it is shown and recorded).
_WORKSPACE_ID = re.compile(r"[\x21-\x7e]{1,200}")


class HttpBackend:
    """A SleekFlow workspace over HTTP. ``transport`` is injectable for tests."""

    capabilities = Capabilities(can_connect=False, parallel_writes=True)

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
        """A backend for the API at ``base_url`` (``ApiClient`` says what each argument is,
        and raises ``BackendError`` for a URL or key it refuses)."""
        self.api = ApiClient(
            base_url,
            api_key,
            transport=transport,
            policy=policy,
            concurrency=concurrency,
            on_retry=on_retry,
            clock=clock,
        )
        self.description = self.api.description
        self.concurrency = self.api.concurrency
        self._workspace: WorkspaceRef | None = None

    def __repr__(self) -> str:
        """The backend's description; never its key."""
        return f"HttpBackend({self.description!r})"

    def close(self) -> None:
        """Close the HTTP client and its connections."""
        self.api.close()

    # --- reading -----------------------------------------------------------------------------

    def read(self) -> WorkspaceState:
        """Every channel with its links, read page by page: each channel's links are asked for
        as soon as the channel is listed, up to ``concurrency`` at once. Raises
        ``BackendError`` for a failed request, data of the wrong shape, or one account listed
        twice (case ignored)."""

        def links_of(raw: dict[str, Any]) -> Channel:
            cid = str(raw["id"])
            what = f"list links of {visible(str(raw['account']))}"
            pages = self.api.pages(f"/v1/tiktok/channels/{segment(cid)}/message-links", what)
            # The API lists links oldest first: that order is the creation order plan needs.
            links = tuple(_link(item, seq) for seq, item in enumerate(pages, start=1))
            return _channel(raw, links)

        try:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                pending = [
                    pool.submit(links_of, raw)
                    for raw in self.api.pages("/v1/tiktok/channels", "list channels")
                ]
                result = [future.result() for future in pending]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = visible(str(exc))[:200]
            raise BackendError(
                f"read workspace: unexpected data from the server ({reason})"
            ) from None
        result.sort(key=lambda c: fold(c.account))
        for before, after in itertools.pairwise(result):
            if fold(before.account) == fold(after.account):  # a plan would see only one
                raise BackendError(
                    f"read workspace: the server lists channel {visible(after.account)!r} "
                    f"twice (ids {visible(before.id)} and {visible(after.id)})"
                )
        return WorkspaceState(tuple(result))

    def history(
        self, account: str | None = None, *, since: datetime | None = None
    ) -> list[UrlEvent]:
        """The URL history, oldest first (``GET /v1/tiktok/message-link-history``, page by
        page): every channel's, or ``account``'s, from ``since`` on when given. Raises
        ``BackendError`` for a failed request or data of the wrong shape."""
        query = {}
        if account is not None:
            query["account"] = account
        if since is not None:
            query["since"] = as_utc(since).isoformat().replace("+00:00", "Z")
        what = "read the URL history" + (f" of {visible(account)}" if account else "")
        items = self.api.pages("/v1/tiktok/message-link-history", what, query)
        try:
            return [_event(item) for item in items]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BackendError(f"{what}: unexpected data from the server") from None

    def workspace(self) -> WorkspaceRef:
        """This workspace: the API's URL (without credentials) and the id ``GET
        /v1/workspace`` gives, asked once."""
        if self._workspace is None:
            what = "read the workspace id"
            response = self.api.request("GET", "/v1/workspace", what=what)
            ident = self.api.parsed(response, what, _workspace_id)
            self._workspace = WorkspaceRef("http", self.api.url, ident)
        return self._workspace

    # --- writing -----------------------------------------------------------------------------

    def connect_channel(self, account: str, display_name: str) -> Channel:
        """Always raises ``BackendError``: a channel is connected in SleekFlow's UI (OAuth)."""
        raise BackendError(
            f"channel {account} can't be connected over the API: connect it in SleekFlow "
            "(Channels > TikTok Business Messaging)"
        )

    def rename_channel(self, channel_id: str, display_name: str, *, version: int) -> Channel:
        """``PATCH`` the channel's display name over ``version``; the channel as stored
        (without its links)."""
        return self._patch(
            f"/v1/tiktok/channels/{segment(channel_id)}",
            what=f"rename channel {channel_id}",
            body={"display_name": display_name},
            version=version,
            parse=lambda data: _channel(data, ()),
            values=lambda channel: {"display_name": channel.display_name},
        )

    def remove_channel(self, channel_id: str, *, version: int) -> None:
        """``DELETE`` the channel over ``version``; one already gone after a lost response
        counts as done."""
        self.api.request(
            "DELETE",
            f"/v1/tiktok/channels/{segment(channel_id)}",
            what=f"remove channel {channel_id}",
            if_match=version,
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
        self,
        channel_id: str,
        link_id: str,
        *,
        title: str,
        ref: str | None,
        message: str,
        version: int,
    ) -> Link:
        """``PATCH`` the link's values over ``version``; the link as stored (a new URL if ref
        or message changed)."""
        return self._patch(
            f"/v1/tiktok/channels/{segment(channel_id)}/message-links/{segment(link_id)}",
            what=f"update link {title!r}",
            body={"title": title, "ref": ref, "message": message},
            version=version,
            parse=_link,
            values=lambda link: {"title": link.title, "ref": link.ref, "message": link.message},
        )

    def remove_link(self, channel_id: str, link_id: str, *, version: int) -> None:
        """``DELETE`` the link over ``version``; one already gone after a lost response
        counts as done."""
        self.api.request(
            "DELETE",
            f"/v1/tiktok/channels/{segment(channel_id)}/message-links/{segment(link_id)}",
            what=f"remove link {link_id}",
            if_match=version,
            missing_ok=True,
        )

    def _patch(
        self,
        path: str,
        *,
        what: str,
        body: dict[str, Any],
        version: int,
        parse: Callable[[Any], R],
        values: Callable[[R], dict[str, Any]],
    ) -> R:
        """``PATCH`` ``body`` to ``path`` over ``version``; the resource as stored (``parse``
        of the answer). A retry that meets ``412`` reads the resource back: when ``values``
        of it are the body, an earlier attempt whose answer was lost did the write, and that
        is the answer; else ``WorkspaceChanged``."""
        response = self.api.request(
            "PATCH", path, what=what, json=body, if_match=version, changed_ok=True
        )
        if response is not None:
            return self.api.parsed(response, what, parse)
        current = self.api.parsed(self.api.request("GET", path, what=what), what, parse)
        if values(current) != body:
            raise WorkspaceChanged(
                f"{what}: changed in the workspace since it was planned "
                f"(version {current.version}, planned against {version})",
                current=current.version,
                given=version,
            )
        return current


def _channel(raw: dict[str, Any], links: tuple[Link, ...]) -> Channel:
    """A channel of the API's JSON as a value (``KeyError``/``ValueError`` when malformed)."""
    return Channel(
        id=str(raw["id"]),
        account=str(raw["account"]),
        display_name=str(raw["display_name"]),
        status=ChannelStatus(raw["status"]),
        links=links,
        version=_version(raw),
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
        version=_version(raw),
    )


def _event(raw: dict[str, Any]) -> UrlEvent:
    """An entry of the API's URL history as a value (``KeyError``/``ValueError`` when
    malformed)."""

    def url(value: Any) -> str | None:
        return None if value is None else str(value)

    return UrlEvent(
        channel=str(raw["account"]),
        link_id=str(raw["link_id"]),
        title=str(raw["title"]),
        event=LinkEvent(raw["event"]),
        old_url=url(raw["old_url"]),
        new_url=url(raw["new_url"]),
        at=str(raw["at"]),
    )


def _version(raw: dict[str, Any]) -> int:
    """The ``version`` of a channel or link of the API's JSON (``ValueError`` unless it is a
    positive integer)."""
    version = raw["version"]
    if type(version) is not int or version < 1:
        raise ValueError(f"version {version!r} is not a positive integer")
    return version


def _workspace_id(raw: dict[str, Any]) -> str:
    """The ``id`` of the API's workspace JSON (``ValueError`` unless it is 1-200 printable
    ASCII characters)."""
    ident = raw["id"]
    if not isinstance(ident, str) or not _WORKSPACE_ID.fullmatch(ident):
        raise ValueError("the workspace id is not 1-200 printable ASCII characters")
    return ident
