"""What the page of links for marketers shows (``links --format html``): every link, and which
of them got a new URL lately, with the old URL to replace. ``render.html`` lays it out.

``build`` is pure: rows and URL changes in (``links.url_changes`` of a saved plan, or
``history.url_changes_since``), a ``LinksPage`` out; ``of_workspace`` reads those changes from
a backend for it (the command line and ``reconciler ci apply`` both use it). Which stretch of
time counts as "lately" is decided here (``window``): the last ``history.RECENT`` (30 days)
unless a date or a plan is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler import history
from reconciler.backends.base import Backend
from reconciler.errors import InvalidDate
from reconciler.history import RECENT, moment
from reconciler.links import ChangeStatus, LinkRow, UrlChangeRow, regenerations, url_changes
from reconciler.model import WorkspaceState, fold, visible
from reconciler.plan import saved


@dataclass(frozen=True, slots=True)
class Window:
    """What the page marks as changed: URL changes since ``since`` (from the history), or
    those of the saved plan ``plan``; ``label`` says which, for the page."""

    label: str
    since: datetime | None = None
    plan: str | None = None


def window(changed_since: str | None, now: datetime) -> Window:
    """The window of ``links --changed-since`` (``PLANFILE|DATE``, None: the last 30 days up
    to ``now``). Text that is a date or time (``history.moment``) is one; text shaped like
    one that names no day (``2026-02-30``) is ``InvalidDate``; anything else is a plan file's
    path."""
    if changed_since is None:
        since = now - RECENT
        return Window(f"in the last {RECENT.days} days (since {since:%Y-%m-%d})", since=since)
    try:
        when = moment(changed_since)
    except InvalidDate as exc:
        path = visible("./" + changed_since.strip())
        raise InvalidDate(
            f"{exc}; a plan file named like a date is given by its path ({path})"
        ) from None
    if when is None:
        return Window(f"by the plan {changed_since}", plan=changed_since)
    shown = f"{when:%Y-%m-%d}" if when.time() == datetime.min.time() else when.isoformat()
    return Window(f"since {shown}", since=when)


@dataclass(frozen=True, slots=True)
class PageLink:
    """A link on the page; ``change`` is its URL change in the window, if it had one (the
    old URL to replace wherever it is shared)."""

    row: LinkRow
    change: UrlChangeRow | None = None


@dataclass(frozen=True, slots=True)
class LinksPage:
    """The page: its links in channel order, the window's label, the workspace it shows
    (its description), and the URL changes of links of its channels that were removed since
    (``gone``): their old URL keeps working, untracked."""

    links: tuple[PageLink, ...]
    window: str
    workspace: str
    gone: tuple[UrlChangeRow, ...] = ()

    @property
    def changed(self) -> int:
        """How many links on the page have a new URL."""
        return sum(link.change is not None for link in self.links)


def build(
    rows: Sequence[LinkRow], changes: Sequence[UrlChangeRow], *, window: str, workspace: str
) -> LinksPage:
    """The page of ``rows``, each marked with its change among ``changes``: one whose new URL
    is live and is the row's URL, in the row's channel (a change not applied yet marks
    nothing). A change of a link now gone, in a channel of ``rows``, is in ``gone``."""
    live = {
        (fold(c.channel), c.current_url): c
        for c in changes
        if c.status is ChangeStatus.APPLIED and c.current_url is not None
    }
    links = tuple(PageLink(row, live.get((fold(row.channel), row.url))) for row in rows)
    channels = {fold(row.channel) for row in rows}
    gone = tuple(c for c in changes if c.current_url is None and fold(c.channel) in channels)
    return LinksPage(links=links, window=window, workspace=workspace, gone=gone)


def url_changes_in(
    backend: Backend, window: Window, state: WorkspaceState, *, plan_key: bytes | None = None
) -> list[UrlChangeRow]:
    """The URL changes of ``window`` with their status in ``state`` (``backend``'s workspace
    now): those its saved plan regenerates, or the history's since its time. The plan is
    checked as ``apply --plan`` checks one before it reads it (``saved.load``: its shape,
    its own consistency, its signature under ``plan_key``; then its workspace)."""
    if window.plan is not None:
        recorded = saved.load(window.plan, key=plan_key)
        saved.check_workspace(recorded, backend.workspace(), name=window.plan)
        return url_changes(regenerations(recorded), state)
    return history.url_changes_since(history.history(backend, since=window.since), state)


def of_workspace(
    backend: Backend,
    rows: Sequence[LinkRow],
    window: Window,
    *,
    state: WorkspaceState | None = None,
    plan_key: bytes | None = None,
) -> LinksPage:
    """The page of ``rows`` (selected from ``backend``'s workspace: ``state`` when given, the
    snapshot they were read from), marked with the URL changes of ``window``
    (``url_changes_in``, its plan checked with ``plan_key``)."""
    actual = backend.read() if state is None else state
    changes = url_changes_in(backend, window, actual, plan_key=plan_key)
    return build(rows, changes, window=window.label, workspace=str(backend.workspace()))
