"""SleekFlow's side of a channel, simulated on the local workspace: the OAuth connect and a
token expiry (``sandbox connect`` and ``sandbox disconnect``).

What each means is decided here, not by the command line: the display name a channel gets
when none is given, and that connecting a connected channel does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.errors import InvalidInput
from reconciler.model import (
    ACCOUNT_RULE,
    CONTROL_RULE,
    Channel,
    ChannelStatus,
    control_characters,
    is_account,
    visible,
)

#: The longest display name SleekFlow shows (the config's rule).
DISPLAY_NAME_LIMIT = 100


class Outcome(StrEnum):
    """What ``connect`` did."""

    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    #: Nothing: the channel was connected already (not a failure, so a demo can run twice).
    ALREADY_CONNECTED = "already connected"


@dataclass(frozen=True, slots=True)
class Connection:
    """The channel as it is after ``connect``, and what ``connect`` did to it."""

    channel: Channel
    outcome: Outcome


def check_account(account: str) -> None:
    """``InvalidInput`` (field ``account``) unless ``account`` is a TikTok username
    (``model.is_account``)."""
    if not is_account(account):
        raise InvalidInput(
            f"{account!r} is not a TikTok username: {ACCOUNT_RULE}",
            field="account",
        )


def connect(backend: LocalBackend, account: str, display_name: str | None = None) -> Connection:
    """Connect ``account``, as SleekFlow's OAuth flow does, or reconnect it when it is
    disconnected (its id and links are kept).

    ``display_name`` None keeps a reconnected channel's name and names a new one after its
    account. A connected channel is left as it is (``Outcome.ALREADY_CONNECTED``). A bad
    account or display name is an ``InvalidInput`` before the store is opened.
    """
    check_account(account)
    if display_name is not None and (
        not display_name.strip() or len(display_name) > DISPLAY_NAME_LIMIT
    ):
        raise InvalidInput(
            f"must be 1-{DISPLAY_NAME_LIMIT} characters, not blank", field="display_name"
        )
    if display_name is not None and control_characters(display_name):
        raise InvalidInput(f"{visible(display_name)!r}: {CONTROL_RULE}", field="display_name")
    existing = backend.read().channel(account)
    if existing is not None and existing.status is ChannelStatus.CONNECTED:
        return Connection(channel=existing, outcome=Outcome.ALREADY_CONNECTED)
    if display_name is None:
        display_name = existing.display_name if existing is not None else account
    channel = backend.connect_channel(account, display_name)
    outcome = Outcome.RECONNECTED if existing is not None else Outcome.CONNECTED
    return Connection(channel=channel, outcome=outcome)


def disconnect(backend: LocalBackend, account: str) -> Channel:
    """Simulate a token expiry: ``account`` shows as disconnected. A ``BackendError`` when
    there is no such channel (a store that doesn't exist is not created)."""
    check_account(account)
    return StoreApi(backend).set_status(account, ChannelStatus.DISCONNECTED)
