"""Helpers shared by the core tests: literal states, a real in-memory workspace, and the plan
JSON Schema check every JSON plan must pass."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from reconciler.backends.local import LocalBackend
from reconciler.errors import Problem
from reconciler.model import (
    Channel,
    ChannelStatus,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    Link,
    WorkspaceState,
    link_url,
)


@cache
def plan_validator() -> Draft202012Validator:
    """A validator for ``reconciler/schemas/plan.schema.json`` (the schema checked first)."""
    text = resources.files("reconciler").joinpath("schemas/plan.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_valid_plan_json(text: str) -> dict[str, Any]:
    """Parse a JSON plan and assert it matches the plan schema; return the data."""
    data = json.loads(text)
    errors = sorted(plan_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return data  # type: ignore[no-any-return]


# --- literal states -------------------------------------------------------------------------


def dl(title: str, message: str, ref: str | None = None) -> DesiredLink:
    """A desired link."""
    return DesiredLink(title=title, message=message, ref=ref)


def dc(
    account: str, display_name: str | None = None, *links: DesiredLink, **kw: Any
) -> DesiredChannel:
    """A desired channel; ``display_name`` defaults to the account (None with remove=True)."""
    if display_name is None and not kw.get("remove"):
        display_name = account
    return DesiredChannel(account=account, display_name=display_name, links=links, **kw)


def desired(*channels: DesiredChannel) -> DesiredState:
    return DesiredState(channels)


def link(
    ident: int, title: str, message: str, ref: str | None = None, *, account: str = "acmepets"
) -> Link:
    """An existing link whose id and creation order (``seq``) are ``ident``."""
    return Link(str(ident), title, ref, message, link_url(account, ref, message), seq=ident)


def channel(
    account: str,
    display_name: str | None = None,
    *links: Link,
    status: ChannelStatus = ChannelStatus.CONNECTED,
    ident: str | None = None,
) -> Channel:
    """An existing channel; ``display_name`` defaults to the account."""
    return Channel(ident or f"c-{account}", account, display_name or account, status, links)


def workspace(*channels: Channel) -> WorkspaceState:
    return WorkspaceState(channels)


# --- a real workspace -----------------------------------------------------------------------


@contextmanager
def memory_backend() -> Iterator[LocalBackend]:
    """A real LocalBackend on an in-memory SQLite database, closed afterwards."""
    backend = LocalBackend(connection=sqlite3.connect(":memory:"))
    try:
        yield backend
    finally:
        backend.close()


def seed(backend: LocalBackend, state: WorkspaceState) -> WorkspaceState:
    """Create ``state``'s channels and links (in order) in ``backend``; return what it reads."""
    for ch in state.channels:
        created = backend.connect_channel(ch.account, ch.display_name)
        for lk in sorted(ch.links, key=lambda x: x.seq):
            backend.create_link(
                created.id,
                title=lk.title,
                ref=lk.ref,
                message=lk.message,
                key=f"seed-{ch.account}-{lk.id}",
            )
        if ch.status is ChannelStatus.DISCONNECTED:
            backend.set_status(ch.account, ChannelStatus.DISCONNECTED)
    return backend.read()


def every_action_plan(*, can_connect: bool = True) -> tuple[DesiredState, WorkspaceState]:
    """A desired and an actual state whose plan has one change of every kind (two creates,
    two removals) and a warning and an info diagnostic."""
    actual = workspace(
        channel(
            "acmepets",
            "Acme",
            link(1, "Bio", "Hi", "bio"),
            link(2, "Ad summer", "Sale", "fb_ad"),
            link(3, "Old title", "Story time"),
            link(4, "Gone", "Bye now", "old"),
        ),
        channel("oldbrand", "Old Brand", link(5, "Poster", "QR", account="oldbrand")),
        channel("zoo", "Zoo"),
    )
    want = desired(
        dc(
            "acmepets",
            "Acme Pets",
            dl("Bio", "Hello there", "bio"),
            dl("Ad summer", "Sale", "fb_ad"),
            dl("New title", "Story time"),
            dl("Fresh", "Join our VIP program", "fb_ad"),
        ),
        dc("oldbrand", remove=True),
        dc("newshop", "New Shop", dl("Welcome", "Hi!")),
    )
    return want, actual


# --- config texts ---------------------------------------------------------------------------

#: A config with eleven problems, one of each kind, each at its own position.
TEN_MISTAKES = """\
version: 1
channels:
  - account: acme.
    display_name: "   "
    colour: red
    links:
      - title: yes
        message: hi
      - title: Promo
        ref: "bad ref"
        message: hi
      - title: promo
        message: hi
        mesage: typo
  - account: second
    links:
      - title: ok
        message: [1, 2]
  - account: SECOND
    display_name: dup
    max_change_pct: 150
"""


def located(problem: Problem) -> str:
    """``str(problem)`` without the leading path: "LINE:COL: message"."""
    return str(problem).removeprefix(f"{problem.path}:")


#: A valid config of one channel; tests append keys of that channel to it.
CHANNEL = "version: 1\nchannels:\n  - account: acme\n    display_name: A\n"
