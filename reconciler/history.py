"""The URL history of a workspace: which URL each link had when, and which links got a new URL
since a day ("which posters must I reprint since March 1st?").

Both backends keep it (the local store's ``link_history``, the API's
``/v1/tiktok/message-link-history``); here it is read through ``HistoryBackend`` and turned into
rows. Pure apart from that one read.

- :func:`moment`: a date (``2026-03-01``, midnight UTC) or an ISO 8601 time, or None for text
  not shaped like one (``links --changed-since`` then takes it as a plan file); text shaped
  like one that names no day or time (``2026-02-30``) is ``InvalidDate``, never a path.
  :func:`since`: the same, where only a date or time will do (``history --since``).
- :func:`history`: the entries of every channel, one channel or one link (followed through
  its renames: :func:`link_history`), from a time on.
- :func:`url_changes_since`: each link whose URL changed in a stretch of history, old URL
  (the one shared before) and new URL, as the ``UrlChangeRow`` a saved plan's regenerations
  give too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol

from reconciler.errors import InvalidDate, SelectionError
from reconciler.events import LinkEvent, UrlEvent, as_utc
from reconciler.links import ChangeStatus, UrlChangeRow, where_shared
from reconciler.model import (
    WorkspaceState,
    fold,
    parse_link_url,
    visible,
)

#: What the page of links marks as changed when no other time is given.
RECENT = timedelta(days=30)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)
#: Text that reads as an attempt at a date or a time (a year, a month and a day, then
#: nothing or an hour and a colon): a date or time then, right or wrong, never a path.
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:.*)?", re.DOTALL)
#: The forms a date or time is given in, for every message that states them.
FORMS = "a date (2026-03-01) or an ISO 8601 time (2026-03-01T09:30:00+02:00)"


class HistoryBackend(Protocol):
    """A workspace that keeps the URL history of its links (both backends do)."""

    description: str

    def read(self) -> WorkspaceState:
        """Every channel with its links."""
        ...

    def history(
        self, account: str | None = None, *, since: datetime | None = None
    ) -> list[UrlEvent]:
        """The history, oldest first: every channel's or ``account``'s, from ``since`` on."""
        ...


def moment(text: str) -> datetime | None:
    """The time ``text`` names, in UTC: a date (``2026-03-01``) is its midnight in UTC; a time
    (``2026-03-01T09:30``, ``2026-03-01T09:30:00+02:00``, ``...Z``) without an offset is UTC.
    None when ``text`` is not shaped like a date at all (``plan.json``, ``./2026-03-01``);
    ``InvalidDate`` when it is shaped like one but names no day or time (``2026-02-30``,
    ``2026-3-1``, ``2026-03-01T25:00``), saying why and the forms taken."""
    text = text.strip()
    if not _DATE_LIKE.fullmatch(text):
        return None
    try:
        if _DATE.fullmatch(text):
            return as_utc(datetime.combine(date.fromisoformat(text), time()))
        if _TIME.fullmatch(text):
            return as_utc(datetime.fromisoformat(text.upper().replace("Z", "+00:00")))
        why = "not written as YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS] with an optional offset"
    except ValueError as exc:  # out of range: Python's words, but for the offset's
        why = "an offset is under 24 hours" if "offset" in str(exc) else str(exc)
    raise InvalidDate(f"{visible(text)!r} is not a valid date or time ({why}); give {FORMS}")


def since(text: str) -> datetime:
    """The time ``text`` names where only a date or time will do (``history --since``):
    ``moment``'s, and ``InvalidDate`` for text that is not one at all."""
    when = moment(text)
    if when is None:
        raise InvalidDate(f"{visible(text.strip())!r} is not {FORMS}")
    return when


def link_history(rows: Sequence[UrlEvent], title: str) -> list[UrlEvent]:
    """The entries (oldest first) of every link that was ever titled ``title`` (ignoring
    case), followed by the link's id through its renames and regenerations. Two links that
    once had the same URL stay apart: a removed link and a later one with the same ref and
    message are different links."""
    ids = {(r.channel, r.link_id) for r in rows if fold(r.title) == fold(title)}
    return [r for r in rows if (r.channel, r.link_id) in ids]


def history(
    backend: HistoryBackend,
    account: str | None = None,
    title: str | None = None,
    *,
    since: datetime | None = None,
) -> list[UrlEvent]:
    """The history of every channel, of ``account``, or of its link ``title``
    (``link_history``), from ``since`` on. ``SelectionError`` for a channel that is neither in
    the workspace nor in its history, or a title no link of the channel ever had (listing
    what there is)."""
    rows = backend.history(account, since=since)
    if account is None:
        return rows
    state = backend.read() if not rows else None
    if (
        state is not None
        and state.channel(account) is None
        and (since is None or not backend.history(account))
    ):
        existing = ", ".join(repr(c.account) for c in state.channels) or "(none)"
        raise SelectionError(
            f"no channel {visible(account)!r} in {backend.description}, and no history "
            f"of one; channels: {existing}"
        )
    if title is None:
        return rows
    found = link_history(rows, title)
    if not found:
        titles = sorted({r.title for r in rows}, key=str.casefold)
        raise SelectionError(
            f"no link titled {visible(title)!r} in the history of {visible(account)}"
            + (" since then" if since is not None else "")
            + f"; titles: {', '.join(repr(visible(t)) for t in titles) or '(none)'}"
        )
    return found


def url_changes_since(events: Sequence[UrlEvent], state: WorkspaceState) -> list[UrlChangeRow]:
    """Each link whose URL ``events`` (a stretch of history, oldest first) change: the URL it
    had before the first regeneration (the one shared, printed, in bios) and the URL after
    the last, with the link as ``state`` has it now: ``applied`` while it still has that new
    URL, ``changed since`` with no current URL once it is removed. A link regenerated back
    to the URL it had is left out (nothing to replace). By channel, then in history order."""
    first: dict[tuple[str, str], UrlEvent] = {}
    last: dict[tuple[str, str], UrlEvent] = {}
    title: dict[tuple[str, str], str] = {}
    for event in events:
        key = (fold(event.channel), event.link_id)
        title[key] = event.title
        if event.event is LinkEvent.REGENERATED:
            first.setdefault(key, event)
            last[key] = event
    out = []
    for key, start in first.items():
        old_url, new_url = start.old_url, last[key].new_url
        if old_url is None or new_url is None or old_url == new_url:
            continue
        channel = state.channel(key[0])
        link = next((lk for lk in channel.links if lk.id == key[1]), None) if channel else None
        current = link.url if link is not None else None
        out.append(
            UrlChangeRow(
                channel=channel.account if channel is not None else start.channel,
                title=link.title if link is not None else title[key],
                where=where_shared(title[key], _ref_of(old_url)),
                old_url=old_url,
                new_url=new_url,
                status=ChangeStatus.APPLIED if current == new_url else ChangeStatus.CHANGED_SINCE,
                current_url=current,
            )
        )
    return sorted(out, key=lambda r: fold(r.channel))


def _ref_of(url: str) -> str | None:
    """The ref a link URL carries (None when it has none, or is no link URL)."""
    try:
        return parse_link_url(url)[1]
    except ValueError:
        return None
