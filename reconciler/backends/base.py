"""The backend protocol: read everything once, then one call per change.

A backend maps its own failures (``sqlite3.Error``, ``httpx.HTTPError``) to ``BackendError``
at its edge; nothing foreign escapes it.

Writes to an existing resource are conditional: each names the ``version`` of the channel or
link it was planned against, and succeeds only if that is still the resource's version; else it
raises ``WorkspaceChanged`` and changes nothing. The check and the write are one step (one
transaction, one request), so two applies racing from one state can't both win. Creates are
not conditional: a create of a title the channel has since got is ``TitleTaken``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reconciler.events import UrlEvent
from reconciler.model import Channel, Link, WorkspaceRef, WorkspaceState


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do beyond reading and editing links (``Backend.capabilities``)."""

    #: The backend can connect a channel itself (the local workspace can; SleekFlow needs
    #: the OAuth step in its UI).
    can_connect: bool = False
    #: Independent writes may run at once (an API); a SQLite file takes one writer at a time.
    parallel_writes: bool = False


class Backend(Protocol):
    """A workspace. Writes return the resource as stored, URL and new version included."""

    capabilities: Capabilities
    #: A short human description, e.g. "local workspace .reconciler/workspace.db".
    description: str

    def read(self) -> WorkspaceState:
        """Every channel with its links, each with its version."""
        ...

    def workspace(self) -> WorkspaceRef:
        """Which workspace this is (what a plan records). Reading it creates nothing."""
        ...

    def history(
        self, account: str | None = None, *, since: datetime | None = None
    ) -> list[UrlEvent]:
        """The URL history of the workspace's links, oldest first: every channel's, or
        ``account``'s (ignoring case; kept after a channel is removed), from ``since`` on."""
        ...

    def connect_channel(self, account: str, display_name: str) -> Channel:
        """Connect a channel (only where ``capabilities.can_connect``)."""
        ...

    def rename_channel(self, channel_id: str, display_name: str, *, version: int) -> Channel:
        """Change the display name shown inside SleekFlow, if the channel is at ``version``."""
        ...

    def remove_channel(self, channel_id: str, *, version: int) -> None:
        """Disconnect and remove a channel and its links, if the channel is at ``version``.
        Irreversible."""
        ...

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        """Create a link. ``key`` identifies the intended change: a retry with the same key
        must not create a second link."""
        ...

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
        """Edit a link, if it is at ``version``; a new ref or message gives it a new URL."""
        ...

    def remove_link(self, channel_id: str, link_id: str, *, version: int) -> None:
        """Remove a link from the workspace, if it is at ``version``. Irreversible."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
