"""How the links a config declares meet the links a channel has: the link changes of one
channel. Pure, like ``build``, which calls ``link_changes`` for each declared channel.

Matching, in order: by title ignoring case; by a title of a link's ``renamed_from`` (the
same link across an edit of title and message: Terraform's ``moved``); by ``ref`` and
``message`` (the same link renamed; paired in file order with existing links in creation
order). A declared link left is created; an existing one left is removed, or kept and listed
when the channel says ``prune: false`` (DNSControl's ``NO_PURGE``).
"""

from __future__ import annotations

from collections import defaultdict, deque
from operator import attrgetter

from reconciler.errors import Severity
from reconciler.model import DesiredChannel, DesiredLink, Link, fold, link_url
from reconciler.plan.values import Action, Change, Diagnostic, LinkValues, Resource


def link_changes(
    account: str,
    channel_id: str | None,
    dc: DesiredChannel,
    existing: tuple[Link, ...],
) -> tuple[list[Change], list[Diagnostic], list[str]]:
    """The link changes that turn ``existing`` into the links ``dc`` declares: matched by
    title, then by ``renamed_from``, then by content (a rename), the rest created or removed
    (kept, when ``dc.prune`` is false); the diagnostics of the matching (a ``renamed_from``
    not used, a link kept); and the ids of the links kept."""
    wanted = dc.links
    in_creation_order = sorted(existing, key=_SEQ)
    by_title: dict[str, deque[Link]] = defaultdict(deque)
    for old in in_creation_order:
        by_title[fold(old.title)].append(old)
    pairs: list[tuple[DesiredLink, Link | None]] = []
    matched: set[str] = set()
    for want in wanted:
        candidates = by_title.get(fold(want.title))
        found = candidates.popleft() if candidates else None
        if found is not None:
            matched.add(found.id)
        pairs.append((want, found))
    diags: list[Diagnostic] = []
    if any(map(_RENAMED_FROM, wanted)):  # at C speed: most configs rename nothing
        diags = _match_renamed(account, pairs, by_title, matched, known=channel_id is not None)
    # Renames: an unmatched declared link and an unmatched existing one with the same content
    # (none to look for in the common case at scale: every link found by its title).
    everything_matched = len(matched) == len(in_creation_order)
    if not everything_matched and len(matched) < len(pairs):
        by_content: dict[tuple[str | None, str], deque[Link]] = defaultdict(deque)
        for old in in_creation_order:
            if old.id not in matched:
                by_content[(old.ref, old.message)].append(old)
        for i, (want, found) in enumerate(pairs):
            if found is None:
                candidates = by_content.get((want.ref, want.message))
                if candidates:
                    renamed = candidates.popleft()
                    matched.add(renamed.id)
                    pairs[i] = (want, renamed)
        everything_matched = len(matched) == len(in_creation_order)

    changes: list[Change] = []
    for want, link in pairs:
        if link is None:
            changes.append(
                Change(
                    action=Action.CREATE,
                    resource=Resource.LINK,
                    channel=account,
                    title=want.title,
                    fields=("title", "ref", "message"),
                    after=_values(account, want),
                    channel_id=channel_id,
                )
            )
            continue
        if link.title == want.title and link.ref == want.ref and link.message == want.message:
            continue  # the common case at scale: nothing to do, no URL to predict
        fields = tuple(
            name
            for name, differs in (
                ("title", link.title != want.title),
                ("ref", link.ref != want.ref),
                ("message", link.message != want.message),
            )
            if differs
        )
        before = LinkValues(title=link.title, ref=link.ref, message=link.message, url=link.url)
        if fields == ("title",):
            action = Action.UPDATE
            after = LinkValues(title=want.title, ref=link.ref, message=link.message, url=link.url)
        else:
            action = Action.REGENERATE
            after = _values(account, want)
        changes.append(
            Change(
                action=action,
                resource=Resource.LINK,
                channel=account,
                title=want.title,
                fields=fields,
                before=before,
                after=after,
                channel_id=channel_id,
                link_id=link.id,
                version=link.version,
            )
        )
    kept: list[str] = []
    for old in () if everything_matched else in_creation_order:
        if old.id in matched:
            continue
        if not dc.prune:
            kept.append(old.id)
            diags.append(
                Diagnostic(
                    severity=Severity.INFO,
                    code="kept-link",
                    channel=account,
                    message=f"link {old.title!r} ({old.url}) is not in the config and is kept "
                    f"(prune: false for channel {account})",
                )
            )
            continue
        changes.append(
            Change(
                action=Action.REMOVE,
                resource=Resource.LINK,
                channel=account,
                title=old.title,
                fields=("link",),
                before=LinkValues(title=old.title, ref=old.ref, message=old.message, url=old.url),
                channel_id=channel_id,
                link_id=old.id,
                version=old.version,
            )
        )
    return changes, diags, kept


_RENAMED_FROM = attrgetter("renamed_from")
_SEQ = attrgetter("seq")


def _match_renamed(
    account: str,
    pairs: list[tuple[DesiredLink, Link | None]],
    by_title: dict[str, deque[Link]],
    matched: set[str],
    *,
    known: bool,
) -> list[Diagnostic]:
    """Pair each declared link not found by its title with the first existing link, not yet
    matched, titled as one of its ``renamed_from`` (updating ``pairs`` and ``matched``); a
    warning for each ``renamed_from`` title that isn't used, when the channel exists
    (``known``): it is probably applied already."""
    diags: list[Diagnostic] = []
    for i, (want, found) in enumerate(pairs):
        for old in want.renamed_from:
            candidates = by_title.get(fold(old)) if found is None else None
            if candidates:
                found = candidates.popleft()
                matched.add(found.id)
                pairs[i] = (want, found)
                continue
            if not known:
                continue
            if found is None:
                why = "matches no link of the channel"
            elif fold(found.title) == fold(want.title):
                why = "is not needed: the link already has its new title"
            else:
                why = f"is not needed: the link was found as {found.title!r}"
            diags.append(
                Diagnostic(
                    severity=Severity.WARNING,
                    code="renamed-from-unmatched",
                    channel=account,
                    message=f"link {want.title!r}: renamed_from {old!r} {why} "
                    "(probably already applied): remove it from the config",
                )
            )
    return diags


def _values(account: str, want: DesiredLink) -> LinkValues:
    """A declared link's values, with the URL the URL rule gives it in ``account``."""
    return LinkValues(
        title=want.title,
        ref=want.ref,
        message=want.message,
        url=link_url(account, want.ref, want.message),
    )
