"""The plan as GitHub-flavoured markdown, for a pull-request comment.

Layout, top to bottom:

1. one sentence with every count (``**reconciler** — Plan: 2 to create, 1 to remove ...``);
2. banners (GitHub alerts): ``[!CAUTION]`` listing the errors when the plan cannot be applied,
   ``[!WARNING]`` for irreversible removals and ``[!IMPORTANT]`` for regenerated links, each
   listing the URLs concerned (the old URLs to replace, the URLs that stay live untracked);
3. one table per channel, headed by its display name and account: action, title, what
   changes (a regeneration shows the old and new ref or message, shortened) and the URL;
4. warnings and notes;
5. the long detail (full messages, before and after) inside ``<details>``.

GitHub refuses a comment over 65,536 characters, so the output stays within ``MAX_CHARS``
UTF-16 code units (at most as many characters or code points, whichever way they are
counted): when the whole plan doesn't fit, changes are left out of the middle of the tables
and the detail, and a line in their place says how many and how to see all of them. The
summary and the banners' counts are never cut; a banner lists at most ``BANNER_URLS`` items
and ``BANNER_BUDGET`` characters of them, then says how many more there are.

Every piece of text from a config or a workspace goes through :func:`cell` (or :func:`code`),
so a title can't break a table row, open a code span, inject HTML, make a link, mention
someone or reference an issue. The output is a pure function of the plan: the same plan
gives the same bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from reconciler.errors import Severity
from reconciler.model import visible
from reconciler.plan import Action, Change, ChannelValues, Diagnostic, LinkValues, Plan, Resource
from reconciler.render.text import by_channel, its_links, summary_line
from reconciler.words import plural

#: GitHub's limit on a comment is 65,536 characters; this leaves room for a bot's header
#: and footer.
MAX_CHARS = 65_000
#: A banner lists at most this many items...
BANNER_URLS = 50
#: ...and at most this many characters of them (a 500-character message can make a URL of
#: several thousand), so the banners alone always fit with room for the tables.
BANNER_BUDGET = 15_000
#: The errors listed in the caution banner: at most this many characters of them.
ERRORS_BUDGET = 8_000
#: A regeneration's row shows the old and the new ref or message cut to this many characters
#: (the detail has them whole).
SHORT = 60

#: How to see what a cut plan left out, for any reader of the comment.
SEE_ALL = (
    "To see all of them, run `reconciler plan PATH... --format text` (or `--format json`), "
    "or open the JSON plan saved with this run (in CI, the config's `reconciler-plan-NAME` "
    "artifact)."
)

_T = TypeVar("_T")

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
#: GitHub turns "https://..." and "www.x" in text into links; an escaped ':' or '.' reads
#: the same and links nowhere.
_AUTOLINK = re.compile(r":(?=//)|(?<=\bwww)\.", re.IGNORECASE)
_NEWLINE = re.compile(r"\r\n|\r|\n")
#: "@name" in a comment notifies GitHub user "name"; a zero-width space after the "@" (as
#: Renovate and Dependabot write it) shows the same text and notifies nobody.
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
#: "#2", "owner/repo#2" and "GH-2" link an issue and add "mentioned this" to its timeline,
#: every time a plan is posted ("Giveaway #2"); a zero-width space defuses them the same way.
_REFERENCE = re.compile(r"#(?=[0-9])|(?<=\bGH)(?=-[0-9])", re.IGNORECASE)


def cell(text: str | None) -> str:
    """Text safe inside a table cell, a heading or a list item: HTML escaped, markdown
    punctuation backslash-escaped, mentions, issue references and bare links defused,
    newlines as ``<br>``, other control characters made visible. ``None`` is a dash."""
    if text is None:
        return "—"
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    escaped = _REFERENCE.sub(lambda m: m.group() + "&#8203;", escaped)  # before any entity
    escaped = _AUTOLINK.sub(lambda m: "\\" + m.group(), _MENTION.sub("@&#8203;", escaped))
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


def size(text: str) -> int:
    """The length of ``text`` in UTF-16 code units: never less than its length in characters
    or code points, so a limit on it holds however GitHub counts."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def render_plan(plan: Plan, *, limit: int = MAX_CHARS) -> str:
    """The plan as markdown of at most ``limit`` UTF-16 code units (see the module
    docstring)."""
    head = _head(plan)
    notes = _diagnostic_lines(plan)
    changes = plan.changes

    def document(kept: int, shown: int) -> str:
        return _assemble(plan, head, kept, notes, shown, limit)

    text = document(len(changes), len(notes))
    if size(text) <= limit:
        return text
    # Keep as many changes as fit, half from the start and half from the end of the plan.
    kept = _most(len(changes), lambda n: size(document(n, len(notes))) <= limit)
    if kept == 0:
        # Not even the notes fit whole: cut them too (only thousands of them do this).
        shown = _most(len(notes), lambda n: size(document(0, n)) <= limit)
        return document(0, shown)
    return document(kept, len(notes))


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


# --- the head: summary and banners, never cut ----------------------------------------------


def _head(plan: Plan) -> list[str]:
    """The summary and the banners: never cut."""
    out = [f"**reconciler** — {summary_line(plan)}"]
    if plan.workspace is not None:
        out += ["", f"Workspace: {code(str(plan.workspace), in_table=False)}"]
    errors = plan.errors
    if errors:
        out += [
            "",
            "> [!CAUTION]",
            f"> **This plan cannot be applied: {plural(len(errors), 'error')}.** "
            "Apply refuses it whole and changes nothing; fix the cause and plan again.",
        ]
        out += _banner_list(errors, _error_item, budget=ERRORS_BUDGET)
    removals = plan.removals
    if removals:
        # Each removal, and after a channel each link it takes with it.
        items = [(c, lk) for c in removals for lk in (None, *_taken(c))]
        channels = sum(c.resource is Resource.CHANNEL for c in removals)
        taken = len(items) - len(removals)
        also = (
            f", and {plural(taken, 'link')} the removed "
            f"{'channel takes with it' if channels == 1 else 'channels take with them'}"
            if taken
            else ""
        )
        out += [
            "",
            "> [!WARNING]",
            f"> **{plural(len(removals), 'irreversible removal')}{also}.** A removed link keeps "
            "working but can no longer be edited or tracked; a removed channel is "
            "disconnected from SleekFlow with all its links. Applying needs `--allow-removals`.",
        ]
        out += _banner_list(items, lambda item: _removal_item(plan, *item))
    regenerations = plan.regenerations
    if regenerations:
        out += [
            "",
            "> [!IMPORTANT]",
            f"> **{plural(len(regenerations), 'link gets', 'links get')} a new URL.** "
            "The old URLs below keep working with the OLD message: replace them wherever "
            "they are shared (bio, ads, print).",
        ]
        out += _banner_list(regenerations, _regeneration_item)
    return out


def _error_item(diag: Diagnostic) -> str:
    return f"> - {_SEVERITY_ICON[diag.severity]} `{diag.code}`: {cell(diag.message)}"


def _taken(change: Change) -> tuple[LinkValues, ...]:
    """The links a channel removal takes with it (none for any other change)."""
    before = change.before
    return (before.links or ()) if isinstance(before, ChannelValues) else ()


def _removal_item(plan: Plan, change: Change, taken: LinkValues | None = None) -> str:
    if taken is not None:
        return (
            f"> - {code(change.channel, in_table=False)} / {cell(taken.title)}: "
            f"{code(taken.url, in_table=False)} (stays live, untracked; taken with the channel)"
        )
    if change.resource is Resource.CHANNEL:
        assert isinstance(change.before, ChannelValues)
        its = its_links(change.before) + (" (listed)" if _taken(change) else "")
        return (
            f"> - {_channel_label(plan, change.channel)}: the channel is disconnected with "
            f"{its}; Flow Builder flows using it may break"
        )
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


def _banner_list(
    items: Sequence[_T], item: Callable[[_T], str], *, budget: int = BANNER_BUDGET
) -> list[str]:
    """At most ``BANNER_URLS`` items of at most ``budget`` characters, then how many more."""
    out: list[str] = []
    used = 0
    for entry in items[:BANNER_URLS]:
        line = item(entry)
        if used + size(line) > budget:
            break
        out.append(line)
        used += size(line) + 1
    if len(out) < len(items):
        out.append(f"> - … and {len(items) - len(out)} more")
    return out


def _channel_label(plan: Plan, account: str) -> str:
    """``Display name (`account`)``, or the account alone when the plan has no name for it."""
    name = plan.display_name(account)
    account_code = code(account, in_table=False)
    return account_code if name is None else f"{cell(name)} ({account_code})"


# --- the body: tables, notes, detail --------------------------------------------------------


def _diagnostic_lines(plan: Plan) -> list[str]:
    """Warnings and notes (errors are in the caution banner)."""
    return [
        f"- {_SEVERITY_ICON[d.severity]} **{d.severity}** `{d.code}`: {cell(d.message)}"
        for d in plan.diagnostics
        if d.severity is not Severity.ERROR
    ]


def _assemble(
    plan: Plan,
    head: list[str],
    kept: int,
    notes: list[str],
    shown: int,
    limit: int,
) -> str:
    """The document with ``kept`` changes (the first half and the last half of them) and the
    first ``shown`` lines of notes."""
    changes = plan.changes
    first = list(changes[: (kept + 1) // 2])
    last = list(changes[len(changes) - kept // 2 :]) if kept // 2 else []
    omitted = len(changes) - len(first) - len(last)
    out = list(head)
    if omitted:
        out += _tables(plan, first)
        out += [
            "",
            f"> ✂️ **{plural(omitted, 'change')} left out here** to keep this comment under "
            f"{limit:,} characters (the counts above are complete). {SEE_ALL}",
        ]
        out += _tables(plan, last)
    else:
        out += _tables(plan, [*first, *last])
    if notes:
        out += ["", "### Warnings and notes", "", *notes[:shown]]
        if shown < len(notes):
            out.append(
                f"- … and {len(notes) - shown} more: run `reconciler plan PATH...` to see them all"
            )
    details = [_detail(c) for c in first if _has_detail(c)]
    details_last = [_detail(c) for c in last if _has_detail(c)]
    if omitted and details_last:
        details.append(f"✂️ *{plural(omitted, 'change')} left out here (see above).*")
    details += details_last
    if details:
        out += [
            "",
            "<details><summary>Full messages, before and after</summary>",
            "",
            "\n\n".join(details),
            "",
            "</details>",
        ]
    return "\n".join(out) + "\n"


def _has_detail(change: Change) -> bool:
    return change.resource is Resource.LINK and change.action is not Action.UPDATE


def _tables(plan: Plan, changes: list[Change]) -> list[str]:
    out: list[str] = []
    for channel, group in by_channel(changes).items():
        out += [
            "",
            f"### {_channel_label(plan, channel)}",
            "",
            "| action | title | what changes | URL |",
            "|---|---|---|---|",
        ]
        for change in group:
            out.append(_row(change))
            out.extend(_taken_row(lk) for lk in _taken(change))
    return out


def _taken_row(link: LinkValues) -> str:
    """A link that a channel removal takes with it, in the channel's table."""
    return (
        f"| 🗑️ with the channel | {cell(link.title)} | the URL stays live, untracked | "
        f"{code(link.url)} |"
    )


def _short(text: str | None) -> str:
    """``text`` quoted and cut to ``SHORT`` characters, for a table cell."""
    if text is None:
        return "(none)"
    cut = text if len(text) <= SHORT else text[: SHORT - 1].rstrip() + "…"
    return f"“{cell(cut)}”"


def _row(change: Change) -> str:
    before, after = change.before, change.after
    icon = _ICON[change.action]
    if change.resource is Resource.CHANNEL:
        name_before = before.display_name if isinstance(before, ChannelValues) else None
        name_after = after.display_name if isinstance(after, ChannelValues) else None
        what = {
            Action.CONNECT: f"connect as {cell(name_after)}",
            Action.RENAME: f"display name {cell(name_before)} → {cell(name_after)}",
            Action.REMOVE: f"**disconnect the channel and {its_links(before)}** (irreversible)"
            if isinstance(before, ChannelValues)
            else "",
        }[change.action]
        return f"| {icon} | (channel) | {what} | |"
    title = cell(change.title)
    if change.action is Action.CREATE:
        assert isinstance(after, LinkValues)
        what = f"new link: ref {cell(after.ref)}, message {_short(after.message)}"
        return f"| {icon} | {title} | {what} | {code(after.url)} |"
    if change.action is Action.REMOVE:
        assert isinstance(before, LinkValues)
        what = "irreversible; the URL stays live, untracked"
        return f"| {icon} | {title} | {what} | {code(before.url)} |"
    assert isinstance(before, LinkValues) and isinstance(after, LinkValues)
    if change.action is Action.UPDATE:
        return f"| {icon} | {title} | title (was {cell(before.title)}) | unchanged |"
    parts = []
    for name in change.fields:
        old, new = getattr(before, name), getattr(after, name)
        if name == "message":
            parts.append(f"message {_short(old)} → {_short(new)}")
        else:
            parts.append(f"{name} {cell(old)} → {cell(new)}")
    return (
        f"| {icon} | {title} | {'<br>'.join(parts)} | "
        f"old {code(before.url)}<br>new {code(after.url)} |"
    )


def _detail(change: Change) -> str:
    lines = [
        f"**{change.action}** {code(change.channel, in_table=False)} / {cell(change.title)}",
        "",
    ]
    for label, values in (("before", change.before), ("after", change.after)):
        if isinstance(values, LinkValues):
            lines.append(f"- {label}: ref {cell(values.ref)}, message “{cell(values.message)}”")
    return "\n".join(lines)
