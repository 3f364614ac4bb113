"""The plan as GitHub-flavoured markdown, for a pull-request comment.

First line: a one-sentence summary. Then a banner for irreversible removals and one for
regenerated URLs, a table per channel, and the long detail inside ``<details>``.
"""

from __future__ import annotations

import html

from reconciler.errors import Severity
from reconciler.plan import Action, Change, ChannelValues, LinkValues, Plan, Resource
from reconciler.render.text import by_channel, summary_line

_ICON = {
    Action.CONNECT: "➕ connect",
    Action.CREATE: "➕ create",
    Action.RENAME: "✏️ rename",
    Action.UPDATE: "✏️ update",
    Action.REGENERATE: "🔁 **regenerate**",
    Action.REMOVE: "🗑️ **remove**",
}
_SEVERITY_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}


def cell(text: str | None) -> str:
    """Text safe inside a table cell: HTML escaped, pipes and newlines neutralised."""
    if text is None:
        return "—"
    escaped = html.escape(text, quote=False).replace("|", "\\|").replace("`", "\\`")
    return escaped.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def render_plan(plan: Plan) -> str:
    out = [f"**reconciler** — {summary_line(plan)}"]
    if not plan.applicable:
        out += [
            "",
            f"> [!CAUTION]\n> This plan **cannot be applied**: {len(plan.errors)} error(s) below.",
        ]
    removals = plan.removals
    if removals:
        out += [
            "",
            "> [!WARNING]",
            f"> **{len(removals)} irreversible removal(s).** Removed links "
            "keep working but can no longer be edited or tracked.",
        ]
    regenerations = plan.regenerations
    if regenerations:
        out += [
            "",
            "> [!IMPORTANT]",
            f"> **{len(regenerations)} link(s) get a new URL.** The old URLs "
            "keep working with the OLD message: replace them wherever they are shared.",
        ]
        for change in regenerations[:50]:
            assert isinstance(change.before, LinkValues)
            out.append(f"> - {cell(change.channel)} / {cell(change.title)}: `{change.before.url}`")
        if len(regenerations) > 50:
            out.append(f"> - … and {len(regenerations) - 50} more")
    for channel, changes in by_channel(plan.changes).items():
        out += [
            "",
            f"### `{channel}`",
            "",
            "| action | title | what changes | URL |",
            "|---|---|---|---|",
        ]
        out += [_row(change) for change in changes]
    if plan.diagnostics:
        out += ["", "### Diagnostics", ""]
        out += [
            f"- {_SEVERITY_ICON[d.severity]} **{d.severity}** `{d.code}`: {cell(d.message)}"
            for d in plan.diagnostics
        ]
    details = [
        _detail(c)
        for c in plan.changes
        if c.resource is Resource.LINK and c.action is not Action.UPDATE
    ]
    if details:
        out += ["", "<details><summary>Full messages</summary>", "", *details, "", "</details>"]
    return "\n".join(out) + "\n"


def _row(change: Change) -> str:
    before, after = change.before, change.after
    if change.resource is Resource.CHANNEL:
        name_before = before.display_name if isinstance(before, ChannelValues) else None
        name_after = after.display_name if isinstance(after, ChannelValues) else None
        what = {
            Action.CONNECT: f"connect as {cell(name_after)}",
            Action.RENAME: f"display name {cell(name_before)} → {cell(name_after)}",
            Action.REMOVE: "**disconnect channel** (irreversible)",
        }[change.action]
        return f"| {_ICON[change.action]} | (channel) | {what} | |"
    if change.action is Action.CREATE:
        assert isinstance(after, LinkValues)
        return f"| {_ICON[change.action]} | {cell(change.title)} | new link | `{after.url}` |"
    if change.action is Action.REMOVE:
        assert isinstance(before, LinkValues)
        what = "irreversible; URL stays live, untracked"
        return f"| {_ICON[change.action]} | {cell(change.title)} | {what} | `{before.url}` |"
    assert isinstance(before, LinkValues) and isinstance(after, LinkValues)
    if change.action is Action.UPDATE:
        what = f"title (was {cell(before.title)})"
        return f"| {_ICON[change.action]} | {cell(change.title)} | {what} | unchanged |"
    return (
        f"| {_ICON[change.action]} | {cell(change.title)} | {', '.join(change.fields)} | "
        f"old `{before.url}`<br>new `{after.url}` |"
    )


def _detail(change: Change) -> str:
    lines = [f"**{change.action}** `{change.channel}` / {cell(change.title)}", ""]
    for label, values in (("before", change.before), ("after", change.after)):
        if isinstance(values, LinkValues):
            lines.append(f"- {label}: ref {cell(values.ref)}, message: {cell(values.message)}")
    return "\n".join(lines) + "\n"
