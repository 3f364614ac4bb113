"""The resources of the sandbox API (docs/api.md): which path is which resource, the methods
each takes, and what each method does to the local workspace.

Transport-free: ``Api`` is given the request's target, its ``Idempotency-Key`` and
``If-Match`` headers and a way to open the store's API view (``StoreApi``); the handler does the
framing, auth and faults around it. Backend errors become ``ApiProblem``s here (a
``StoreError`` is left to the handler: a 503).

Writes to a channel or link are conditional: ``PATCH`` and ``DELETE`` need ``If-Match`` naming
the version the client saw (a strong ETag, ``"3"``), checked in the write's own transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from reconciler.backends.local.api import StoreApi
from reconciler.errors import (
    ApiProblem,
    BackendError,
    IdempotencyMismatch,
    StoreError,
    TitleTaken,
    WorkspaceChanged,
)
from reconciler.sandbox.validation import (
    history_params,
    method_not_allowed,
    openapi,
    page,
    page_params,
    validate_body,
)

#: The answer of a route: an HTTP status, the JSON payload (None: no body; bytes: JSON
#: already written) and headers.
Answer = tuple[int, Any, dict[str, str]]

_ID = r"([0-9]{1,18})"
_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("channels", re.compile(r"/v1/tiktok/channels/?")),
    ("channel", re.compile(rf"/v1/tiktok/channels/{_ID}")),
    ("links", re.compile(rf"/v1/tiktok/channels/{_ID}/message-links/?")),
    ("link", re.compile(rf"/v1/tiktok/channels/{_ID}/message-links/{_ID}")),
    ("workspace", re.compile(r"/v1/workspace")),
    ("history", re.compile(r"/v1/tiktok/message-link-history/?")),
    ("openapi", re.compile(r"/openapi\.json")),
]
#: The methods each route takes.
ALLOWED = {
    "channels": {"GET"},
    "channel": {"GET", "PATCH", "DELETE"},
    "links": {"GET", "POST"},
    "link": {"GET", "PATCH", "DELETE"},
    "workspace": {"GET"},
    "history": {"GET"},
    "openapi": {"GET"},
}
#: A well-formed ``Idempotency-Key``: 1-255 visible ASCII characters.
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: An ``If-Match`` this API takes: one strong ETag of a version, as its responses send them.
_IF_MATCH = re.compile(r'"([1-9][0-9]{0,17})"')


def etag(version: int) -> str:
    """The ``ETag`` of a resource at ``version``: the version, quoted (a strong ETag)."""
    return f'"{version}"'


def if_match_version(method: str, values: list[str]) -> int:
    """The version the ``If-Match`` headers ``values`` of a conditional ``method`` request
    (``PATCH``, ``DELETE``) name. A 428 ApiProblem when there is none, a 400 for one that isn't
    a single quoted version: ``*`` or a list doesn't name the version seen, and a weak ETag
    never matches."""
    if not values:
        raise ApiProblem(
            428,
            "precondition-required",
            f'{method} needs an If-Match header naming the version you saw (its ETag, as "3")',
        )
    match = _IF_MATCH.fullmatch(values[0].strip()) if len(values) == 1 else None
    if match is None:
        raise ApiProblem(
            400,
            "bad-request",
            'If-Match must be one strong ETag of a version, as "3" (not *, a list or W/"3")',
        )
    return int(match.group(1))


def _one(data: dict[str, Any], status: int = 200) -> Answer:
    """The answer of one channel or link: its data, and its version as the ``ETag``."""
    return status, data, {"ETag": etag(data["version"])}


def route_name(path: str) -> str | None:
    """The name of the route ``path`` is, or None."""
    return next((name for name, pattern in _ROUTES if pattern.fullmatch(path)), None)


def split_target(target: str) -> SplitResult:
    """The parts of a request target; one ``urlsplit`` refuses (``http://[x``) is taken as a
    bare path, which then matches no route (404)."""
    try:
        return urlsplit(target)
    except ValueError:
        return SplitResult("", "", target, "", "")


class Api:
    """The API's resources as seen by one request: ``target`` is its request target (split:
    ``split_target``),
    ``idempotency_key`` its header (None when absent), ``if_match`` its ``If-Match`` headers;
    ``store`` gives the store to use (the connection's: the caller opens and closes it)."""

    def __init__(
        self,
        store: Callable[[], StoreApi],
        target: SplitResult,
        idempotency_key: str | None,
        if_match: list[str] | None = None,
    ) -> None:
        self._store = store
        self._target = target
        self._key = idempotency_key
        self._if_match = if_match or []

    def route(self, method: str, path: str) -> tuple[Callable[..., Answer], list[str]]:
        """The method that answers ``method path`` and its path arguments (it is called as
        ``handler(*args, body=body)``); a 404 or 405 ApiProblem."""
        for name, pattern in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method not in ALLOWED[name]:
                raise method_not_allowed(method, ALLOWED[name])
            action: Callable[..., Answer] = getattr(self, f"{method.lower()}_{name}")
            return action, list(match.groups())
        raise ApiProblem(404, "not-found", f"no such resource: {path}")

    def _query(self) -> dict[str, list[str]]:
        return parse_qs(self._target.query, keep_blank_values=True)

    def _paging(self) -> tuple[int, int]:
        """``(limit, after)`` of this list request (``validation.page_params``): its cursor
        must be one this server issued for this very list (the request's path)."""
        return page_params(self._query(), self._list())

    def _page(self, rows: list[tuple[int, bytes]], limit: int) -> bytes:
        """The page of this list request from up to ``limit + 1`` rows (``validation.page``),
        its ``next_cursor`` bound to this list."""
        return page(rows, limit, self._list())

    def _list(self) -> str:
        """Which list a request pages: its path, without a trailing slash."""
        return self._target.path.rstrip("/")

    def _call(self, func: Callable[[StoreApi], Any]) -> Any:
        """``func`` on the store, its backend errors as ApiProblems."""
        store = self._store()
        try:
            return func(store)
        except IdempotencyMismatch as exc:
            raise ApiProblem(422, "idempotency-key-reused", str(exc)) from None
        except TitleTaken as exc:
            raise ApiProblem(409, "title-taken", str(exc)) from None
        except WorkspaceChanged as exc:
            raise ApiProblem(
                412,
                "precondition-failed",
                f"the resource is at version {exc.current}; If-Match names version {exc.given}",
            ) from None
        except StoreError:
            raise
        except BackendError as exc:
            raise ApiProblem(404, "not-found", str(exc)) from None

    # --- the routes: ``<method>_<route name>`` ----------------------------------------------

    def _named_version(self, method: str) -> int:
        """The version the ``If-Match`` of a conditional write names (``if_match_version``):
        checked after the body, before the work."""
        return if_match_version(method, self._if_match)

    def get_openapi(self, body: Any) -> Answer:
        """The OpenAPI document."""
        return 200, openapi(), {}

    def get_workspace(self, body: Any) -> Answer:
        """The workspace: its id."""
        return 200, self._call(lambda b: b.workspace_data()), {}

    def get_channels(self, body: Any) -> Answer:
        """A page of the channels."""
        limit, after = self._paging()
        rows = self._call(lambda b: b.page_channels(after=after, limit=limit + 1))
        return 200, self._page(rows, limit), {}

    def get_history(self, body: Any) -> Answer:
        """A page of the URL history, oldest first: every channel's or one account's
        (``account``), from a time on (``since``)."""
        account, since = history_params(self._query())
        limit, after = self._paging()
        rows = self._call(
            lambda b: b.page_history(account=account, since=since, after=after, limit=limit + 1)
        )
        return 200, self._page(rows, limit), {}

    def get_channel(self, channel_id: str, body: Any) -> Answer:
        """One channel."""
        return _one(self._call(lambda b: b.channel_data(channel_id)))

    def patch_channel(self, channel_id: str, body: Any) -> Answer:
        """Rename a channel at the version If-Match names; the channel as it is now."""
        validate_body("ChannelPatch", body)
        version = self._named_version("PATCH")
        self._call(
            lambda b: b.backend.rename_channel(channel_id, body["display_name"], version=version)
        )
        return _one(self._call(lambda b: b.channel_data(channel_id)))

    def delete_channel(self, channel_id: str, body: Any) -> Answer:
        """Remove a channel and its links, at the version If-Match names."""
        version = self._named_version("DELETE")
        self._call(lambda b: b.backend.remove_channel(channel_id, version=version))
        return 204, None, {}

    def get_links(self, channel_id: str, body: Any) -> Answer:
        """A page of a channel's links."""
        limit, after = self._paging()
        rows = self._call(lambda b: b.page_links(channel_id, after=after, limit=limit + 1))
        return 200, self._page(rows, limit), {}

    def get_link(self, channel_id: str, link_id: str, body: Any) -> Answer:
        """One link."""
        return _one(self._call(lambda b: b.link_data(channel_id, link_id)))

    def post_links(self, channel_id: str, body: Any) -> Answer:
        """Create a link, once per ``Idempotency-Key`` (a 400 without a well-formed one)."""
        key = self._key
        if key is None or not IDEMPOTENCY_KEY.match(key):
            raise ApiProblem(
                400,
                "idempotency-key-required",
                "POST needs an Idempotency-Key header: 1-255 visible ASCII characters",
            )
        validate_body("LinkCreate", body)
        # The key is claimed (in flight) by the handler for the whole request. The answer is
        # the one recorded with the key, so a replay gets the very same body; it is read in
        # the create's own transaction.
        answer = self._call(
            lambda b: b.backend.create_link_answer(
                channel_id,
                title=body["title"],
                ref=body.get("ref"),
                message=body["message"],
                key=key,
            )
        )
        return _one(answer, 201)

    def patch_link(self, channel_id: str, link_id: str, body: Any) -> Answer:
        """Edit a link's title, ref or message at the version If-Match names; the link as it
        is now."""
        validate_body("LinkPatch", body)
        version = self._named_version("PATCH")

        def edit(b: StoreApi) -> Any:
            """The link with the body's fields set. The fields the body leaves out are read
            first: if the link moves in between, its version does too, and the write (which
            checks the version in its own transaction) is a 412."""
            current = b.link_data(channel_id, link_id)
            # Setting what is already there changes nothing (no new version, no history
            # entry, same updated_at).
            b.backend.update_link(
                channel_id,
                link_id,
                title=body.get("title", current["title"]),
                ref=body["ref"] if "ref" in body else current["ref"],
                message=body.get("message", current["message"]),
                version=version,
            )
            return b.link_data(channel_id, link_id)

        return _one(self._call(edit))

    def delete_link(self, channel_id: str, link_id: str, body: Any) -> Answer:
        """Remove a link, at the version If-Match names."""
        version = self._named_version("DELETE")
        self._call(lambda b: b.backend.remove_link(channel_id, link_id, version=version))
        return 204, None, {}
