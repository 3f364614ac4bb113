"""The plan and the apply report for a terminal: readable in ten seconds.

A regenerated URL or a removal can't be missed: each has its own symbol, a word in capitals,
the URLs involved, and its count in the summary line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: plan's start-up doesn't need apply's imports
    from reconciler.apply import ApplyResult
from reconciler.errors import Severity
from reconciler.model import ChannelStatus, WorkspaceRef, WorkspaceState, visible
from reconciler.plan import (
    DISCONNECTED_FIX,
    Action,
    Change,
    ChannelValues,
    Diagnostic,
    LinkValues,
    Plan,
    Resource,
)
from reconciler.words import plural

_ANSI = {"green": "32", "yellow": "33", "red": "31", "magenta": "35", "cyan": "36", "dim": "2"}
_SYMBOL = {
    Action.CONNECT: ("+", "green"),
    Action.CREATE: ("+", "green"),
    Action.RENAME: ("~", "yellow"),
    Action.UPDATE: ("~", "yellow"),
    Action.REGENERATE: ("-/+", "magenta"),
    Action.REMOVE: ("-", "red"),
}
_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


class _Styler:
    """``st(text, "red", bold=True)``: ``text`` in an ANSI colour, or as is without colour."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, name: str, *, bold: bool = False) -> str:
        if not self.color:
            return text
        codes = [_ANSI[name]] + (["1"] if bold else [])
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


def q(text: str | None) -> str:
    """A value quoted so spaces, newlines and empty strings are visible."""
    return "(none)" if text is None else visible(_json_quote(text))


#: ``json.dumps(text, ensure_ascii=False)`` without building an encoder per call.
_json_quote = json.JSONEncoder(ensure_ascii=False).encode


#: The counts of the summary line, in order: the ``Plan.summary`` key, the noun counted (none
#: for links), and what happens to them.
_SUMMARY = (
    ("connect", "channel", "to connect"),
    ("rename", "channel", "to rename"),
    ("create", "", "to create"),
    ("update", "", "to update"),
    ("regenerate", "", "to regenerate (NEW URL)"),
    ("remove", "", "to remove (IRREVERSIBLE)"),
)


def summary_line(plan: Plan) -> str:
    """One sentence with every count; regenerations and removals spelled out."""
    counts = plan.summary
    parts = []
    for key, noun, what in _SUMMARY:
        n = counts[key]
        if n:
            parts.append(f"{plural(n, noun) if noun else n} {what}")
    if not parts:
        return "No changes."
    return "Plan: " + ", ".join(parts) + "."


def by_channel(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """Changes grouped by channel, channels in the order they first appear."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.channel, []).append(change)
    return groups


def render_plan(plan: Plan, *, color: bool = False) -> str:
    """The plan for a terminal: each channel's changes, the diagnostics, the summary line, and
    whether it can be applied; ANSI colours when ``color``."""
    st = _Styler(color)
    out: list[str] = [] if plan.workspace is None else [workspace_line(plan.workspace), ""]
    for channel, changes in by_channel(plan.changes).items():
        out.append(st(visible(channel), "cyan", bold=True))
        for change in changes:
            out.extend(_change_lines(change, st))
        out.append("")
    if plan.diagnostics:
        for diag in plan.diagnostics:
            out.append(_diagnostic_line(diag, st))
        out.append("")
    out.append(st(summary_line(plan), "cyan", bold=True) if plan.changes else summary_line(plan))
    if not plan.applicable:
        n = len(plan.errors)
        out.append(
            st(
                f"This plan cannot be applied: {plural(n, 'error')} above.",
                "red",
                bold=True,
            )
        )
    return "\n".join(out) + "\n"


def workspace_line(workspace: WorkspaceRef) -> str:
    """The line that opens every plan, apply report and status: which workspace it is."""
    return f"Workspace: {visible(str(workspace))}"


def _diagnostic_line(diag: Diagnostic, st: _Styler) -> str:
    severity = st(f"{diag.severity}[{diag.code}]", _SEVERITY_STYLE[diag.severity], bold=True)
    return f"{severity}: {visible(diag.message)}"


def _change_lines(change: Change, st: _Styler) -> list[str]:
    symbol, style = _SYMBOL[change.action]
    head = f"  {st(symbol.rjust(3), style, bold=True)} {st(str(change.action), style)}"
    indent = " " * 6
    before, after = change.before, change.after
    if change.resource is Resource.CHANNEL:
        if change.action is Action.CONNECT:
            assert isinstance(after, ChannelValues)
            return [f"{head} channel, display name {q(after.display_name)}"]
        if change.action is Action.RENAME:
            assert isinstance(before, ChannelValues) and isinstance(after, ChannelValues)
            return [
                f"{head} channel display name {q(before.display_name)} -> {q(after.display_name)}"
            ]
        assert isinstance(before, ChannelValues)
        taken = before.links or ()
        lines = [
            f"{head} channel {q(before.display_name)}  {st('IRREVERSIBLE', 'red', bold=True)}",
            f"{indent}disconnects the TikTok account from SleekFlow and removes "
            f"{its_links(before)}; "
            "Flow Builder flows using it may break",
        ]
        if taken:
            lines.append(
                f"{indent}the URLs of its links keep working with their messages, but are no "
                "longer tracked:"
            )
            lines.extend(f"{indent}  {q(lk.title)}: {visible(lk.url)}" for lk in taken)
        return lines
    title = q(change.title)
    if change.action is Action.CREATE:
        assert isinstance(after, LinkValues)
        return [
            f"{head} {title}",
            f"{indent}ref: {q(after.ref)}",
            f"{indent}message: {q(after.message)}",
            f"{indent}url: {visible(after.url)}",
        ]
    if change.action is Action.REMOVE:
        assert isinstance(before, LinkValues)
        return [
            f"{head} {title}  {st('IRREVERSIBLE', 'red', bold=True)}",
            f"{indent}url: {visible(before.url)}",
            f"{indent}(the URL keeps working with its message, but is no longer tracked)",
        ]
    assert isinstance(before, LinkValues) and isinstance(after, LinkValues)
    if change.action is Action.UPDATE:
        return [f"{head} {q(before.title)} -> {title}  (URL unchanged)"]
    lines = [
        f"{head} {title}  {st('NEW URL', 'magenta', bold=True)} "
        f"({', '.join(change.fields)} changed)"
    ]
    for name in change.fields:
        old, new = getattr(before, name), getattr(after, name)
        lines.append(f"{indent}{name}: {q(old)} -> {q(new)}")
    lines.append(f"{indent}old URL: {visible(before.url)}")
    lines.append(f"{indent}new URL: {visible(after.url)}")
    lines.append(
        f"{indent}(the old URL keeps working with the OLD message: "
        "replace it wherever it is shared)"
    )
    return lines


def its_links(removed: ChannelValues) -> str:
    """What a channel removal takes, counted: "its 11 links" ("its links" for a plan that
    doesn't list them)."""
    return "its links" if removed.links is None else f"its {plural(len(removed.links), 'link')}"


def confirm_prompt(plan: Plan) -> str:
    """The question asked before applying ``plan``: how many changes, and how many of them
    give a link a new URL or cannot be undone."""
    n = len(plan.changes)
    warnings = []
    if plan.regenerations:
        k = len(plan.regenerations)
        warnings.append(f"{plural(k, 'link gets', 'links get')} a NEW URL")
    if plan.removals:
        k = len(plan.removals)
        warnings.append(f"{plural(k, 'removal')} cannot be undone")
    extra = f" {'; '.join(warnings)}." if warnings else ""
    return f"Apply {plural(n, 'change')}?{extra} Only 'y' or 'yes' continues"


def render_apply(result: ApplyResult, *, color: bool = False) -> str:
    """The apply report: each change applied (with its URL), the failure and what was left
    undone, the URLs to replace, and the verdict; ANSI colours when ``color``."""
    st = _Styler(color)
    out: list[str] = []  # the plan printed before it named the workspace
    for outcome in result.done:
        change = outcome.change
        symbol, style = _SYMBOL[change.action]
        what = visible(change.title or "") if change.resource is Resource.LINK else "channel"
        line = (
            f"{st(symbol.rjust(3), style, bold=True)} {change.action} {visible(change.channel)}: "
            f"{what}"
        )
        if outcome.url:
            line += f"\n      {visible(outcome.url)}"
        elif change.action is Action.REMOVE and isinstance(change.before, LinkValues):
            line += f"\n      {visible(change.before.url)}  (still works, no longer tracked)"
        out.append(line)
    if result.failed is not None:
        failed = result.failed
        what = visible(failed.title or "") if failed.resource is Resource.LINK else "channel"
        out.append("")
        out.append(
            st(f"FAILED: {failed.action} {visible(failed.channel)}: {what}", "red", bold=True)
        )
        out.extend(f"  {visible(line)}" for line in (result.error or "").split("\n"))
        counts = f"{plural(len(result.done), 'change')} applied, {1 + len(result.not_done)} not"
        if result.workspace_changed:
            out.append(
                f"{counts} applied. The workspace changed during the apply (another apply, or an "
                "edit in SleekFlow), so this plan no longer describes it: plan again, review "
                "the new plan, and apply it."
            )
        else:
            out.append(
                f"{counts} applied. The workspace is consistent; fix the cause and run apply "
                "again to finish."
            )
    url_changes = result.url_changes
    if url_changes:
        out.append("")
        out.append(
            st(
                "Replace these URLs (the old ones keep working with the OLD message):",
                "magenta",
                bold=True,
            )
        )
        for u in url_changes:
            out.append(f"  {visible(u.channel)} / {visible(u.title)}  (likely in: {u.where})")
            out.append(f"    old: {visible(u.old_url)}")
            out.append(f"    new: {visible(u.new_url)}")
    if result.ok:
        n = len(result.done)
        out.append("")
        out.append(f"Apply complete: {plural(n, 'change')} applied.")
    return "\n".join(out).lstrip("\n") + "\n"


def render_status(
    state: WorkspaceState, *, workspace: WorkspaceRef | None = None, color: bool = False
) -> str:
    """Each channel of ``state`` (the workspace ``workspace``, named first when given) with
    its status and link count, and the fix for a disconnected one; ANSI colours when
    ``color``."""
    st = _Styler(color)
    out = [] if workspace is None else [workspace_line(workspace)]
    if not state.channels:
        return "\n".join([*out, "No channels in this workspace."]) + "\n"
    width = max(len(visible(c.account)) for c in state.channels)
    for channel in state.channels:
        ok = channel.status is ChannelStatus.CONNECTED
        status = st(str(channel.status), "green" if ok else "red", bold=not ok)
        n = len(channel.links)
        out.append(
            f"{visible(channel.account).ljust(width)}  {status}  "
            f"{plural(n, 'link')}  {q(channel.display_name)}"
        )
        if not ok:
            out.append(f"{' ' * width}  {DISCONNECTED_FIX}")
    return "\n".join(out) + "\n"
