"""Values the engine works with, and the URL rule.

Two sides meet in a plan: the *desired* state read from a config file (``DesiredState``) and
the *actual* state read from a workspace (``WorkspaceState``). Both are frozen, so a plan built
from them can't be changed behind its back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, quote, urlsplit

URL_BASE = "https://tiktok.me/"
DEFAULT_MAX_CHANGE_PCT = 30.0


class ChannelStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


def link_url(account: str, ref: str | None, message: str) -> str:
    """The message link URL: ``https://tiktok.me/{account}?ref=..&message=..``.

    Values are UTF-8 and percent-encoded except RFC 3986 unreserved characters, so a space
    is ``%20`` (never ``+``); ``ref`` is left out when absent.
    """
    query = f"message={quote(message, safe='')}"
    if ref is not None:
        query = f"ref={quote(ref, safe='')}&{query}"
    return f"{URL_BASE}{quote(account, safe='')}?{query}"


def parse_link_url(url: str) -> tuple[str, str | None, str]:
    """The inverse of :func:`link_url`: ``(account, ref, message)``."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    # parse_qsl turns '+' into a space; the rule never writes '+', so a literal '+' is %2B.
    return parts.path.lstrip("/"), params.get("ref"), params["message"]


def fold(text: str) -> str:
    """The key two names match on when case is ignored (accounts, titles)."""
    return text.casefold()


# --- desired state (from a config file) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class DesiredLink:
    title: str
    message: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class DesiredChannel:
    account: str
    display_name: str | None = None
    links: tuple[DesiredLink, ...] = ()
    protect: bool = False
    remove: bool = False
    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT


@dataclass(frozen=True, slots=True)
class DesiredState:
    channels: tuple[DesiredChannel, ...] = ()


# --- actual state (from a workspace) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    """A message link as the workspace stores it. ``seq`` orders links by creation."""

    id: str
    title: str
    ref: str | None
    message: str
    url: str
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    account: str
    display_name: str
    status: ChannelStatus = ChannelStatus.CONNECTED
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkspaceState:
    channels: tuple[Channel, ...] = ()

    def channel(self, account: str) -> Channel | None:
        """The channel whose account matches ``account`` ignoring case, if any."""
        key = fold(account)
        for channel in self.channels:
            if fold(channel.account) == key:
                return channel
        return None


#: A TikTok username: 2-24 letters, digits, '_' and '.', not ending in '.' (as in the schema).
ACCOUNT_PATTERN = r"^[A-Za-z0-9_.]{1,23}[A-Za-z0-9_]$"
