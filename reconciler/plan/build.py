"""build(desired, actual) -> Plan. Pure: no I/O, no clock, deterministic.

The file is authoritative for the channels it declares; a channel it does not declare is
*unmanaged* and never touched. Within a declared channel the file's link list is complete,
unless the channel says ``prune: false``: then links it doesn't declare are kept and listed.
Links match by title ignoring case; then by a title of a link's ``renamed_from`` (the same
link across an edit of title and message); then an unmatched declared link and an unmatched
existing link with the same ``ref`` and ``message`` are the same link renamed (paired in file
order with existing links in creation order).
"""

from __future__ import annotations

from reconciler.errors import Severity
from reconciler.model import (
    Channel,
    ChannelStatus,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    Link,
    WorkspaceRef,
    WorkspaceState,
    fold,
    shared_refs,
)
from reconciler.plan import matching
from reconciler.plan.unseen import unseen_changes, unseen_differences
from reconciler.plan.values import (
    Action,
    Change,
    ChannelValues,
    Diagnostic,
    LinkValues,
    Plan,
    Resource,
)
from reconciler.words import plural

#: Channels with fewer existing links than this are not held by the bulk-change guard.
BULK_GUARD_MIN_LINKS = 10

CONNECT_FIX = "Connect it in SleekFlow (Channels > TikTok Business Messaging), then plan again."
DISCONNECTED_FIX = (
    "The access token may have expired or TikTok permissions were revoked: remove the channel "
    "and connect it again in SleekFlow, granting all permissions. If the TikTok account was "
    "suspended or restricted, check its status in TikTok Business Center."
)

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def build(
    desired: DesiredState,
    actual: WorkspaceState,
    *,
    can_connect: bool = False,
    force: bool = False,
    config_sha256: str | None = None,
    config_files: tuple[tuple[str, str], ...] = (),
    workspace: WorkspaceRef | None = None,
) -> Plan:
    """The changes that make ``actual`` match ``desired``, and what stands in their way.

    ``can_connect`` says whether the backend can connect a channel itself (the local
    workspace can; SleekFlow needs the OAuth step in its UI). ``force`` lets a plan past the
    bulk-change guard and nothing else. ``workspace`` (which workspace ``actual`` is) and
    the config's ``config_sha256`` and ``config_files`` (each file's path and sha256) are
    recorded in the plan.
    """
    changes: list[Change] = []
    diagnostics: list[Diagnostic] = []
    declared = {fold(dc.account) for dc in desired.channels}
    names: list[tuple[str, str]] = []
    kept: list[str] = []  # the ids of links prune: false keeps
    for dc in desired.channels:
        channel = actual.channel(dc.account)
        if channel is not None:
            names.append((channel.account, channel.display_name))
        elif dc.display_name is not None:
            names.append((dc.account, dc.display_name))
        channel_changes, channel_diags, channel_kept = _channel_plan(
            dc, channel, can_connect=can_connect, force=force
        )
        changes.extend(channel_changes)
        diagnostics.extend(channel_diags)
        kept.extend(channel_kept)
    for channel in sorted(actual.channels, key=lambda c: fold(c.account)):
        if fold(channel.account) not in declared:
            diagnostics.append(
                Diagnostic(
                    severity=Severity.INFO,
                    code="unmanaged-channel",
                    channel=channel.account,
                    message=f"channel {channel.account} ({channel.display_name}, {channel.status}) "
                    "is not in the config: left alone",
                )
            )
    diagnostics.sort(
        key=lambda d: (_SEVERITY_ORDER[d.severity], fold(d.channel or ""), d.code, d.message)
    )
    return Plan(
        changes=tuple(changes),
        diagnostics=tuple(diagnostics),
        desired=desired,
        actual=actual,
        config_sha256=config_sha256,
        config_files=config_files,
        forced=force,
        workspace=workspace,
        channel_names=tuple(names),
        kept_links=frozenset(kept),
    )


def _channel_plan(
    dc: DesiredChannel, channel: Channel | None, *, can_connect: bool, force: bool
) -> tuple[list[Change], list[Diagnostic], list[str]]:
    """The changes and diagnostics for one declared channel (``channel`` is its workspace
    channel, None when it isn't connected), and the ids of the links it keeps."""
    changes: list[Change] = []
    diags: list[Diagnostic] = []
    if dc.remove:
        if channel is None:
            diags.append(
                Diagnostic(
                    severity=Severity.INFO,
                    code="channel-absent",
                    channel=dc.account,
                    message=f"channel {dc.account} is marked remove: true and is not in the "
                    "workspace: nothing to do (the entry can be dropped from the config)",
                )
            )
            return changes, diags, []
        taken = tuple(
            LinkValues(title=lk.title, ref=lk.ref, message=lk.message, url=lk.url)
            for lk in sorted(channel.links, key=lambda lk: lk.seq)
        )
        changes.append(
            Change(
                action=Action.REMOVE,
                resource=Resource.CHANNEL,
                channel=channel.account,
                fields=("channel",),
                before=ChannelValues(display_name=channel.display_name, links=taken),
                channel_id=channel.id,
                version=channel.version,
            )
        )
        if dc.protect:
            diags.append(
                Diagnostic(
                    severity=Severity.ERROR,
                    code="protected-channel",
                    channel=channel.account,
                    message=f"channel {channel.account} is protected (protect: true) but the "
                    "config removes it: set protect: false in a reviewed change first, "
                    "or drop remove: true",
                )
            )
        return changes, diags, []

    assert dc.display_name is not None  # the config requires it unless remove: true
    account = channel.account if channel is not None else dc.account
    if channel is None:
        if can_connect:
            changes.append(
                Change(
                    action=Action.CONNECT,
                    resource=Resource.CHANNEL,
                    channel=account,
                    fields=("channel",),
                    after=ChannelValues(display_name=dc.display_name),
                )
            )
        else:
            diags.append(
                Diagnostic(
                    severity=Severity.ERROR,
                    code="channel-not-connected",
                    channel=account,
                    message=f"channel {account} is not connected to this workspace. {CONNECT_FIX}",
                )
            )
    elif channel.display_name != dc.display_name:
        changes.append(
            Change(
                action=Action.RENAME,
                resource=Resource.CHANNEL,
                channel=account,
                fields=("display_name",),
                before=ChannelValues(display_name=channel.display_name),
                after=ChannelValues(display_name=dc.display_name),
                channel_id=channel.id,
                version=channel.version,
            )
        )
    existing = channel.links if channel is not None else ()
    link_changes, link_diags, kept = matching.link_changes(
        account, channel.id if channel else None, dc, existing
    )
    changes.extend(link_changes)
    diags.extend(link_diags)
    diags.extend(_duplicate_refs(account, dc.links))
    diags.extend(unseen_differences(account, dc))
    diags.extend(unseen_changes(account, changes))
    if channel is not None and channel.status is ChannelStatus.DISCONNECTED:
        n = len(changes)
        severity = Severity.ERROR if n else Severity.WARNING
        blocked = f"its {plural(n, 'change is', 'changes are')} blocked. " if n else ""
        diags.append(
            Diagnostic(
                severity=severity,
                code="channel-disconnected",
                channel=account,
                message=f"channel {account} is disconnected: {blocked}{DISCONNECTED_FIX}",
            )
        )
    guard = _bulk_guard(account, dc, existing, changes, force=force)
    if guard is not None:
        diags.append(guard)
    return changes, diags, kept


def _duplicate_refs(account: str, links: tuple[DesiredLink, ...]) -> list[Diagnostic]:
    """A warning for each ref that more than one of ``links`` carries (``shared_refs``)."""
    shared = shared_refs([link.ref for link in links])
    return [
        Diagnostic(
            severity=Severity.WARNING,
            code="duplicate-ref",
            channel=account,
            message=f"ref {ref} is used by {len(indexes)} links "
            f"({', '.join(links[i].title for i in indexes)}): tracking can't tell them apart",
        )
        for ref, indexes in sorted(shared.items())
    ]


def _bulk_guard(
    account: str,
    dc: DesiredChannel,
    existing: tuple[Link, ...],
    changes: list[Change],
    *,
    force: bool,
) -> Diagnostic | None:
    """The bulk-change guard: a diagnostic when ``changes`` regenerate or remove more of a
    channel's links than its ``max_change_pct`` (an error, or a warning when forced)."""
    total = len(existing)
    if total < BULK_GUARD_MIN_LINKS:
        return None
    regenerated = sum(c.action is Action.REGENERATE for c in changes)
    removed = sum(c.action is Action.REMOVE and c.resource is Resource.LINK for c in changes)
    share = 100.0 * (regenerated + removed) / total
    if share <= dc.max_change_pct:
        return None
    what = (
        f"the plan regenerates {regenerated} and removes {removed} of its {total} links "
        f"({_percent(share, dc.max_change_pct)}%, over the {dc.max_change_pct:g}% limit)"
    )
    if force:
        return Diagnostic(
            severity=Severity.WARNING,
            code="too-many-changes",
            channel=account,
            message=f"channel {account}: {what}; forced",
        )
    return Diagnostic(
        severity=Severity.ERROR,
        code="too-many-changes",
        channel=account,
        message=f"channel {account}: {what}. Review it, then plan or apply with --force, "
        "or raise max_change_pct for this channel in the config",
    )


def _percent(share: float, limit: float) -> str:
    """``share`` (over ``limit``) with as few decimals as show it is over: 40, 30.5, 30.01,
    never a rounded "30" next to a 30% limit."""
    for digits in range(4):
        text = f"{share:.{digits}f}"
        if float(text) > limit:
            return text
    return f"{share:g}"
