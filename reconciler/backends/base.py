"""The backend protocol: read everything once, then one call per change.

A backend maps its own failures (``sqlite3.Error``, ``httpx.HTTPError``) to ``BackendError``
at its edge; nothing foreign escapes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from reconciler.model import Channel, Link, WorkspaceState


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do beyond reading and editing links (``Backend.capabilities``)."""

    #: The backend can connect a channel itself (the local workspace can; SleekFlow needs
    #: the OAuth step in its UI).
    can_connect: bool = False
    #: Independent writes may run at once (an API); a SQLite file takes one writer at a time.
    parallel_writes: bool = False


class Backend(Protocol):
    """A workspace. Writes return the resource as stored, URL included."""

    capabilities: Capabilities
    #: A short human description, e.g. "local workspace .reconciler/workspace.db".
    description: str

    def read(self) -> WorkspaceState:
        """Every channel with its links."""
        ...

    def connect_channel(self, account: str, display_name: str) -> Channel:
        """Connect a channel (only where ``capabilities.can_connect``)."""
        ...

    def rename_channel(self, channel_id: str, display_name: str) -> Channel:
        """Change the display name shown inside SleekFlow."""
        ...

    def remove_channel(self, channel_id: str) -> None:
        """Disconnect and remove a channel and its links. Irreversible."""
        ...

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        """Create a link. ``key`` identifies the intended change: a retry with the same key
        must not create a second link."""
        ...

    def update_link(
        self, channel_id: str, link_id: str, *, title: str, ref: str | None, message: str
    ) -> Link:
        """Edit a link; a new ref or message gives it a new URL."""
        ...

    def remove_link(self, channel_id: str, link_id: str) -> None:
        """Remove a link from the workspace. Irreversible."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
