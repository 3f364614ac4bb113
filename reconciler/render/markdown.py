"""The plan as GitHub-flavoured markdown, for a pull-request comment.

First line: a one-sentence summary. Then a banner for irreversible removals and one for
regenerated URLs, a table per channel, and the long detail inside ``<details>``.

GitHub refuses comments over 65,536 characters, so the output stays under ``MAX_CHARS``: when
the whole plan doesn't fit, the middle of the detail (tables and full messages) is cut and a
line says how many changes were left out. The summary line and the banners' counts are never
cut; a banner lists at most ``BANNER_URLS`` URLs and says how many more there are.

Every piece of text from a config or a workspace goes through :func:`cell` (or :func:`code`),
so a title can't break a table row, open a code span, inject HTML or make a link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from reconciler.errors import Severity
from reconciler.model import visible
from reconciler.plan import Action, Change, ChannelValues, LinkValues, Plan, Resource
from reconciler.render.text import by_channel, summary_line

#: GitHub's limit on a comment is 65,536 characters; this leaves room for a bot's header.
MAX_CHARS = 65_000
#: A banner lists at most this many URLs...
BANNER_URLS = 50
#: ...and at most this many characters of them (a 500-character message can make a URL of
#: several thousand), so the banners alone always fit.
BANNER_BUDGET = 20_000

_ICON = {
    Action.CONNECT: "➕ connect",
    Action.CREATE: "➕ create",
    Action.RENAME: "✏️ rename",
    Action.UPDATE: "✏️ update",
    Action.REGENERATE: "🔁 **regenerate**",
    Action.REMOVE: "🗑️ **remove**",
}
_SEVERITY_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
#: Characters markdown gives a meaning to inside a line: escapes, code, emphasis, links,
#: strikethrough, table cells.
_MARKDOWN = re.compile(r"([\\`*_\[\]~|])")
_NEWLINE = re.compile(r"\r\n|\r|\n")


def cell(text: str | None) -> str:
    """Text safe inside a table cell or a list item: HTML escaped, markdown punctuation
    backslash-escaped, newlines as ``<br>``, other control characters made visible."""
    if text is None:
        return "—"
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return "<br>".join(visible(part) for part in _NEWLINE.split(escaped))


def code(text: str, *, in_table: bool = True) -> str:
    """``text`` (a URL, an account) as an inline code span that can't end early or, in a
    table, split the row."""
    text = visible(_NEWLINE.sub(" ", text))
    if in_table:
        # GitHub splits table rows on '|' before it parses code spans; '\|' keeps it whole.
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_plan(plan: Plan, *, limit: int = MAX_CHARS) -> str:
    """The plan as markdown of at most ``limit`` characters (see the module docstring)."""
    head = _head(plan)
    diagnostics = _diagnostic_lines(plan)
    changes = plan.changes
    text = _assemble(head, changes, len(changes), diagnostics, len(diagnostics), limit)
    if len(text) <= limit:
        return text
    # Keep as many changes as fit, half from the start and half from the end of the plan.
    kept = _most(
        len(changes),
        lambda n: len(_assemble(head, changes, n, diagnostics, len(diagnostics), limit)) <= limit,
    )
    if kept == 0:
        # Not even the diagnostics fit whole: cut them too (only thousands of them do this).
        shown = _most(
            len(diagnostics),
            lambda n: len(_assemble(head, changes, 0, diagnostics, n, limit)) <= limit,
        )
        return _assemble(head, changes, 0, diagnostics, shown, limit)
    return _assemble(head, changes, kept, diagnostics, len(diagnostics), limit)


def _most(count: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 0..count with ``fits(n)`` (which holds for 0 and is monotonic)."""
    lo, hi = 0, count
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _head(plan: Plan) -> list[str]:
    """The summary and the banners: never cut."""
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
        out += _banner_list(removals, _removal_item)
    regenerations = plan.regenerations
    if regenerations:
        out += [
            "",
            "> [!IMPORTANT]",
            f"> **{len(regenerations)} link(s) get a new URL.** The old URLs "
            "keep working with the OLD message: replace them wherever they are shared.",
        ]
        out += _banner_list(regenerations, _regeneration_item)
    return out


def _removal_item(change: Change) -> str:
    if change.resource is Resource.CHANNEL:
        return f"> - {code(change.channel, in_table=False)}: the channel (disconnected)"
    assert isinstance(change.before, LinkValues)
    return (
        f"> - {code(change.channel, in_table=False)} / {cell(change.title)}: "
        f"{code(change.before.url, in_table=False)} (stays live, untracked)"
    )


def _regeneration_item(change: Change) -> str:
    assert isinstance(change.before, LinkValues)
    return (
        f"> - {code(change.channel, in_table=False)} / {cell(change.title)}: "
        f"{code(change.before.url, in_table=False)}"
    )


def _banner_list(changes: Sequence[Change], item: Callable[[Change], str]) -> list[str]:
    """At most ``BANNER_URLS`` items of at most ``BANNER_BUDGET`` characters, then how many
    more."""
    out: list[str] = []
    used = 0
    for change in changes[:BANNER_URLS]:
        line = item(change)
        if used + len(line) > BANNER_BUDGET:
            break
        out.append(line)
        used += len(line) + 1
    if len(out) < len(changes):
        out.append(f"> - … and {len(changes) - len(out)} more")
    return out


def _diagnostic_lines(plan: Plan) -> list[str]:
    return [
        f"- {_SEVERITY_ICON[d.severity]} **{d.severity}** `{d.code}`: {cell(d.message)}"
        for d in plan.diagnostics
    ]


def _assemble(
    head: list[str],
    changes: Sequence[Change],
    kept: int,
    diagnostics: list[str],
    shown: int,
    limit: int,
) -> str:
    """The document with ``kept`` changes (the first half and the last half of them) and the
    first ``shown`` diagnostic lines."""
    first = list(changes[: (kept + 1) // 2])
    last = list(changes[len(changes) - kept // 2 :]) if kept // 2 else []
    omitted = len(changes) - len(first) - len(last)
    out = list(head)
    if omitted:
        out += _tables(first)
        out += [
            "",
            f"> ✂️ **{omitted} change(s) left out here** to keep this comment under "
            f"{limit:,} characters (the counts above are complete). "
            "Run `reconciler plan` to see every change.",
        ]
        out += _tables(last)
    else:
        out += _tables([*first, *last])
    if diagnostics:
        out += ["", "### Diagnostics", "", *diagnostics[:shown]]
        if shown < len(diagnostics):
            out.append(
                f"- … and {len(diagnostics) - shown} more diagnostic(s): run `reconciler plan` "
                "to see them all"
            )
    details = [
        _detail(c)
        for c in (*first, *last)
        if c.resource is Resource.LINK and c.action is not Action.UPDATE
    ]
    if details:
        out += ["", "<details><summary>Full messages</summary>", "", "\n\n".join(details)]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _tables(changes: list[Change]) -> list[str]:
    out: list[str] = []
    for channel, group in by_channel(changes).items():
        out += [
            "",
            f"### {code(channel, in_table=False)}",
            "",
            "| action | title | what changes | URL |",
            "|---|---|---|---|",
        ]
        out += [_row(change) for change in group]
    return out


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
        return f"| {_ICON[change.action]} | {cell(change.title)} | new link | {code(after.url)} |"
    if change.action is Action.REMOVE:
        assert isinstance(before, LinkValues)
        what = "irreversible; URL stays live, untracked"
        return f"| {_ICON[change.action]} | {cell(change.title)} | {what} | {code(before.url)} |"
    assert isinstance(before, LinkValues) and isinstance(after, LinkValues)
    if change.action is Action.UPDATE:
        what = f"title (was {cell(before.title)})"
        return f"| {_ICON[change.action]} | {cell(change.title)} | {what} | unchanged |"
    return (
        f"| {_ICON[change.action]} | {cell(change.title)} | {', '.join(change.fields)} | "
        f"old {code(before.url)}<br>new {code(after.url)} |"
    )


def _detail(change: Change) -> str:
    lines = [
        f"**{change.action}** {code(change.channel, in_table=False)} / {cell(change.title)}",
        "",
    ]
    for label, values in (("before", change.before), ("after", change.after)):
        if isinstance(values, LinkValues):
            lines.append(f"- {label}: ref {cell(values.ref)}, message: {cell(values.message)}")
    return "\n".join(lines)
