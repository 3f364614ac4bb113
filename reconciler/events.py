"""The values of a workspace's URL history: what happened to a link (``LinkEvent``), one entry
of the history (``UrlEvent``), and the one rule for its times (``as_utc``).

Both backends produce them (the local store from its ``link_history`` table, the http backend
from ``GET /v1/tiktok/message-link-history``); ``reconciler.history`` answers questions with
them ("which URLs changed since March 1st?").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a time without a zone is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class LinkEvent(StrEnum):
    """What happened to a link, as its URL history records it."""

    CREATED = "created"
    #: A new ref or message: a new URL (the old one keeps working with the old message).
    REGENERATED = "regenerated"
    #: A new title alone: the same URL.
    RENAMED = "renamed"
    #: Gone from the workspace; its last URL keeps working, untracked.
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class UrlEvent:
    """One entry of a workspace's URL history: ``link_id`` stays the same across a link's
    renames and regenerations; ``channel`` is its account as the history keeps it (lower
    case); ``at`` is an ISO 8601 time in UTC (``2026-03-01T09:30:00+00:00``)."""

    channel: str
    link_id: str
    title: str
    event: LinkEvent
    old_url: str | None
    new_url: str | None
    at: str

    def to_dict(self) -> dict[str, str | None]:
        """The entry as plain JSON data (``history --format json``, CSV columns)."""
        return {
            "at": self.at,
            "channel": self.channel,
            "title": self.title,
            "event": str(self.event),
            "old_url": self.old_url,
            "new_url": self.new_url,
            "link_id": self.link_id,
        }
