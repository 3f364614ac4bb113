"""The links of a workspace where marketers use them: which links, and which URLs changed.

Pure, like ``plan``: everything here takes states (and a saved plan's regenerations) and
returns rows; nothing reads a file or the network. The CLI reads the workspace, calls these,
and hands the rows to ``render.links``.

- :func:`select`: every link of the workspace, or of the channels a config declares, as
  :class:`LinkRow` (channel, title, ref, message, URL), in a fixed order.
- :func:`narrow`: keep the rows of some channels or titles; a name that matches nothing is an
  error that lists what exists.
- :func:`regenerations`: the links a saved plan regenerates; :func:`url_changes`: each of
  them with where its old URL is likely shared (:func:`where_shared`), and whether the
  workspace now has the new URL.

The URL history (which URLs changed when) is ``history``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from reconciler.errors import SelectionError
from reconciler.model import Channel, ChannelStatus, DesiredState, WorkspaceState, fold, visible
from reconciler.plan import Resource, build
from reconciler.plan.saved import SavedPlan

#: An "unknown name" error lists at most this many of the names that exist.
MAX_NAMES_LISTED = 20


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One message link as a marketer copies it."""

    channel: str
    title: str
    ref: str | None
    message: str
    url: str
    display_name: str = ""
    status: ChannelStatus = ChannelStatus.CONNECTED
    link_id: str = ""
    seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The row as it appears in ``links --format json`` (and as CSV columns)."""
        return {
            "channel": self.channel,
            "title": self.title,
            "ref": self.ref,
            "message": self.message,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Selection:
    """The rows selected, the channels they were chosen from (a channel with no links
    still counts), and notes for the user (a declared channel missing from the workspace)."""

    rows: tuple[LinkRow, ...]
    channels: tuple[Channel, ...]
    notes: tuple[str, ...] = ()


def select(state: WorkspaceState, desired: DesiredState | None = None) -> Selection:
    """Every link of ``state``, or, given ``desired``, of the channels it declares (except
    those it removes). Channels in the workspace's order (by account, ignoring case), links in
    creation order: the same workspace gives the same rows in the same order."""
    notes: list[str] = []
    if desired is None:
        channels = list(state.channels)
    else:
        channels = []
        for declared in desired.channels:
            if declared.remove:
                continue
            channel = state.channel(declared.account)
            if channel is None:
                notes.append(
                    f"channel {visible(declared.account)} is declared but not in the workspace: "
                    "it has no links yet (connect it, then apply)"
                )
            else:
                channels.append(channel)
        channels.sort(key=lambda c: fold(c.account))
    rows = tuple(
        LinkRow(
            channel=channel.account,
            title=link.title,
            ref=link.ref,
            message=link.message,
            url=link.url,
            display_name=channel.display_name,
            status=channel.status,
            link_id=link.id,
            seq=link.seq,
        )
        for channel in channels
        for link in sorted(channel.links, key=lambda lk: lk.seq)
    )
    return Selection(rows, tuple(channels), tuple(notes))


def pending_changes(desired: DesiredState, state: WorkspaceState) -> int:
    """How many link changes applying ``desired`` would still make: when not 0, the URLs of
    the workspace are not yet the ones the config describes."""
    built = build(desired, state, can_connect=True)
    return sum(c.resource is Resource.LINK for c in built.changes)


class Named(Protocol):
    """A row with a channel and a title (a link, a URL change)."""

    @property
    def channel(self) -> str:
        """The channel's account."""
        ...

    @property
    def title(self) -> str:
        """The link's title."""
        ...


RowT = TypeVar("RowT", bound=Named)


def narrow(
    rows: Sequence[RowT],
    *,
    known_channels: Iterable[str],
    channels: Sequence[str] = (),
    titles: Sequence[str] = (),
    scope: str = "the workspace",
) -> tuple[RowT, ...]:
    """The ``rows`` in ``channels`` (accounts, ignoring case) with one of ``titles``
    (ignoring case); an empty sequence keeps everything.

    Raises ``SelectionError`` for a channel not among ``known_channels`` or a title no row
    of the chosen channels has, listing the names that exist (``scope`` says where they were
    looked for).
    """
    out = tuple(rows)
    if channels:
        known = {fold(c): c for c in known_channels}
        unknown = [name for name in channels if fold(name) not in known]
        if unknown:
            raise SelectionError(
                f"no channel {_names(unknown)} in {scope}; "
                f"channels: {_names(sorted(known.values(), key=fold)) or '(none)'}"
            )
        wanted = {fold(name) for name in channels}
        out = tuple(r for r in out if fold(r.channel) in wanted)
    if titles:
        present = {fold(r.title) for r in out}
        unknown = [title for title in titles if fold(title) not in present]
        if unknown:
            where = f"channel {_names(channels)}" if channels else scope
            existing = _names(sorted({r.title for r in out}, key=fold))
            raise SelectionError(
                f"no link titled {_names(unknown)} in {where}; titles: {existing or '(none)'}"
            )
        wanted = {fold(title) for title in titles}
        out = tuple(r for r in out if fold(r.title) in wanted)
    return out


def _names(names: Iterable[str]) -> str:
    """Names quoted for a message, at most ``MAX_NAMES_LISTED`` of them."""
    items = list(names)
    shown = ", ".join(repr(visible(n)) for n in items[:MAX_NAMES_LISTED])
    more = len(items) - MAX_NAMES_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


# --- URL changes of a saved plan ----------------------------------------------------------


class ChangeStatus(StrEnum):
    """Whether the workspace has the URL a saved plan's regeneration gives a link."""

    #: The workspace's link has the new ref and message: the new URL is live.
    APPLIED = "applied"
    #: The workspace's link still has the old URL: the plan was not applied (yet).
    NOT_APPLIED = "not applied"
    #: The link has neither (edited again, or removed) since the plan was made.
    CHANGED_SINCE = "changed since"


@dataclass(frozen=True, slots=True)
class Regeneration:
    """A link a saved plan regenerates: its values before and after (``after.url`` is the URL
    the plan predicted)."""

    channel: str
    old_title: str
    old_ref: str | None
    old_message: str
    old_url: str
    title: str
    ref: str | None
    message: str
    new_url: str


@dataclass(frozen=True, slots=True)
class UrlChangeRow:
    """A regenerated link, for the "replace these URLs" list: where the old URL is likely
    shared, old and new URL, and what the workspace has now (``current_url`` is None when
    the link is gone)."""

    channel: str
    title: str
    where: str
    old_url: str
    new_url: str
    status: ChangeStatus
    current_url: str | None

    def to_dict(self) -> dict[str, Any]:
        """The row as it appears in ``links --changed-since --format json`` (and as CSV
        columns); ``status`` as its plain string."""
        return dict(asdict(self), status=str(self.status))


def regenerations(saved: SavedPlan) -> tuple[Regeneration, ...]:
    """The links ``saved`` regenerates (a new URL each), in the plan's order: for
    ``links --changed-since PLANFILE``, the "replace these URLs" list again, later."""
    out = []
    for change in saved.changes:
        if change.get("action") != "regenerate" or change.get("resource") != "link":
            continue
        before, after = change.get("before"), change.get("after")
        if not (isinstance(before, dict) and isinstance(after, dict)):
            continue  # the plan schema rules this out; nothing to list for it anyway
        if "url" not in before or "url" not in after:
            continue
        out.append(
            Regeneration(
                channel=change["channel"],
                old_title=before["title"],
                old_ref=before["ref"],
                old_message=before["message"],
                old_url=before["url"],
                title=after["title"],
                ref=after["ref"],
                message=after["message"],
                new_url=after["url"],
            )
        )
    return tuple(out)


def where_shared(title: str, ref: str | None) -> str:
    """Where a link's old URL is likely to be shared, guessed from its title and ref."""
    text = f"{title} {ref or ''}".lower()
    places = []
    if "bio" in text:
        places.append("TikTok bio")
    if any(
        w in text for w in ("ad ", "ad-", "ad_", "ads", "campaign", "promo", "sale")
    ) or text.startswith("ad"):
        places.append("ads")
    if any(w in text for w in ("story", "stories")):
        places.append("stories")
    if any(w in text for w in ("qr", "print", "poster", "flyer", "event", "rsvp")):
        places.append("print / QR codes")
    return ", ".join(places) if places else "wherever it was shared (bio, ads, stories, print)"


def url_changes(regenerations: Iterable[Regeneration], state: WorkspaceState) -> list[UrlChangeRow]:
    """Each regeneration with its status in ``state``.

    The link is found by its new title, then by its old one (ignoring case). When it has the
    new ref and message the change is applied, and ``new_url`` is the URL the workspace gave
    it (a server may spell it differently from the plan's prediction); when it still has the
    old URL it is not applied; otherwise it changed again (or was removed) since.
    """
    out = []
    for regen in regenerations:
        channel = state.channel(regen.channel)
        links = channel.links if channel is not None else ()
        by_new = [lk for lk in links if fold(lk.title) == fold(regen.title)]
        by_old = [lk for lk in links if fold(lk.title) == fold(regen.old_title)]
        new_url = regen.new_url
        current: str | None = None
        status = ChangeStatus.CHANGED_SINCE
        applied = [lk for lk in by_new if (lk.ref, lk.message) == (regen.ref, regen.message)]
        pending = [lk for lk in by_old + by_new if lk.url == regen.old_url]
        if applied:
            status, new_url, current = ChangeStatus.APPLIED, applied[0].url, applied[0].url
        elif pending:
            status, current = ChangeStatus.NOT_APPLIED, pending[0].url
        elif by_new or by_old:
            current = (by_new or by_old)[0].url
        out.append(
            UrlChangeRow(
                channel=channel.account if channel is not None else regen.channel,
                title=regen.title,
                where=where_shared(regen.title, regen.old_ref),
                old_url=regen.old_url,
                new_url=new_url,
                status=status,
                current_url=current,
            )
        )
    return out
