"""The markdown plan for pull requests: summary and banners, one table row per change whatever
the titles hold, and the 65,000-character limit."""

from __future__ import annotations

import re

import pytest

from reconciler import plan as planner
from reconciler.model import ChannelStatus, WorkspaceState
from reconciler.plan import Plan
from reconciler.render.markdown import MAX_CHARS, cell, code, render_plan
from tests.helpers import channel, dc, desired, dl, every_action_plan, link, workspace

A = "acmepets"


def _every() -> Plan:
    want, actual = every_action_plan()
    return planner.build(want, actual, can_connect=True)


def cells(row: str) -> list[str]:
    """The cells of a table row as GitHub splits them: on pipes not escaped by a backslash
    (a pipe after an even number of backslashes is a real one)."""
    assert row.startswith("| ") and row.endswith(" |"), row
    parts = re.split(r"(?<!\\)((?:\\\\)*)\|", row[1:-1])
    # re.split keeps the captured backslash pairs; glue them back to the cell before them.
    out, current = [], ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            current += part
        else:
            out.append(current + part)
            current = ""
    out.append(current)
    return [c.strip() for c in out]


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]


EVERY_ACTION_MARKDOWN = """\
**reconciler** — Plan: 1 channel to connect, 1 channel to rename, 2 to create, 1 to update, \
1 to regenerate (NEW URL), 2 to remove (IRREVERSIBLE).

> [!WARNING]
> **2 irreversible removal(s).** Removed links keep working but can no longer be edited or \
tracked.
> - `acmepets` / Gone: `https://tiktok.me/acmepets?ref=old&message=Bye%20now` (stays live, \
untracked)
> - `oldbrand`: the channel (disconnected)

> [!IMPORTANT]
> **1 link(s) get a new URL.** The old URLs keep working with the OLD message: replace them \
wherever they are shared.
> - `acmepets` / Bio: `https://tiktok.me/acmepets?ref=bio&message=Hi`

### `acmepets`

| action | title | what changes | URL |
|---|---|---|---|
| ✏️ rename | (channel) | display name Acme → Acme Pets | |
| 🔁 **regenerate** | Bio | message | old `https://tiktok.me/acmepets?ref=bio&message=Hi`<br>new \
`https://tiktok.me/acmepets?ref=bio&message=Hello%20there` |
| ✏️ update | New title | title (was Old title) | unchanged |
| ➕ create | Fresh | new link | \
`https://tiktok.me/acmepets?ref=fb_ad&message=Join%20our%20VIP%20program` |
| 🗑️ **remove** | Gone | irreversible; URL stays live, untracked | \
`https://tiktok.me/acmepets?ref=old&message=Bye%20now` |

### `oldbrand`

| action | title | what changes | URL |
|---|---|---|---|
| 🗑️ **remove** | (channel) | **disconnect channel** (irreversible) | |

### `newshop`

| action | title | what changes | URL |
|---|---|---|---|
| ➕ connect | (channel) | connect as New Shop | |
| ➕ create | Welcome | new link | `https://tiktok.me/newshop?message=Hi%21` |

### Diagnostics

- ⚠️ **warning** `duplicate-ref`: ref fb\\_ad is used by 2 links (Ad summer, Fresh): tracking \
can't tell them apart
- ℹ️ **info** `unmanaged-channel`: channel zoo (Zoo, connected) is not in the config: left alone

<details><summary>Full messages</summary>

**regenerate** `acmepets` / Bio

- before: ref bio, message: Hi
- after: ref bio, message: Hello there

**create** `acmepets` / Fresh

- after: ref fb\\_ad, message: Join our VIP program

**remove** `acmepets` / Gone

- before: ref old, message: Bye now

**create** `newshop` / Welcome

- after: ref —, message: Hi!

</details>
"""


def test_every_action_in_full() -> None:
    assert render_plan(_every()) == EVERY_ACTION_MARKDOWN


def test_no_changes() -> None:
    plan = planner.build(desired(dc(A, "Acme")), workspace(channel(A, "Acme")))
    assert render_plan(plan) == "**reconciler** — No changes.\n"


def test_caution_banner_when_the_plan_cannot_be_applied() -> None:
    actual = workspace(channel(A, "Acme", status=ChannelStatus.DISCONNECTED))
    plan = planner.build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    out = render_plan(plan)
    assert out.splitlines()[:4] == [
        "**reconciler** — Plan: 1 to create.",
        "",
        "> [!CAUTION]",
        "> This plan **cannot be applied**: 1 error(s) below.",
    ]
    assert "- ❌ **error** `channel-disconnected`: channel acmepets is disconnected" in out


def test_no_banner_without_removals_or_regenerations() -> None:
    out = render_plan(planner.build(desired(dc(A, "Acme", dl("Bio", "Hi"))), workspace(channel(A))))
    assert "[!WARNING]" not in out and "[!IMPORTANT]" not in out and "[!CAUTION]" not in out


# --- escaping ---------------------------------------------------------------------------------

NASTY = "a | b `c` <script>alert(1)</script>\nsecond\r\nthird \\| [x](https://evil.example) *b*"


def test_titles_and_messages_cannot_break_a_row() -> None:
    actual = workspace(channel(A, "Acme", link(1, NASTY, "old message"), link(2, "Gone", "x")))
    want = desired(dc(A, "Acme|`<b>`", dl(NASTY, NASTY, "r"), dl(NASTY + "2", NASTY)))
    out = render_plan(planner.build(want, actual))
    rows = table_rows(out)
    assert len(rows) == 5  # header, rename, regenerate, create, remove
    for row in rows:
        assert len(cells(row)) == 4, row
    assert "<script" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    regenerate = next(r for r in rows if "regenerate" in r)
    title = cells(regenerate)[1]
    assert title == (
        "a \\| b \\`c\\` &lt;script&gt;alert(1)&lt;/script&gt;<br>second<br>third \\\\\\| "
        "\\[x\\](https://evil.example) \\*b\\*"
    )
    rename = next(r for r in rows if "rename" in r)
    assert cells(rename)[2] == "display name Acme → Acme\\|\\`&lt;b&gt;\\`"
    # Outside tables too: no raw HTML, no unescaped backtick from data, one line per item.
    for line in out.splitlines():
        if line.startswith(("> - ", "- ")):
            assert "<script" not in line


def test_cell() -> None:
    assert cell(None) == "—"
    assert cell("plain text") == "plain text"
    assert cell("a|b") == "a\\|b"
    assert cell("a\\b") == "a\\\\b"
    assert cell("`x`") == "\\`x\\`"
    assert cell("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert cell("1\n2\r\n3\r4") == "1<br>2<br>3<br>4"
    assert cell("fb_ad *x* ~y~ [l]") == "fb\\_ad \\*x\\* \\~y\\~ \\[l\\]"
    assert cell("esc\x1b[31m") == "esc\\u001b\\[31m"


def test_code() -> None:
    url = "https://tiktok.me/a?message=x"
    assert code(url) == f"`{url}`"
    assert code("a|b") == "`a\\|b`"
    assert code("a|b", in_table=False) == "`a|b`"
    assert code("a`b") == "``a`b``"
    assert code("`a") == "`` `a ``"
    assert code("a\nb") == "`a b`"


# --- the size limit ---------------------------------------------------------------------------


def _many(n: int, message: str = "m") -> Plan:
    """n links, all regenerated (forced past the bulk guard)."""
    actual = workspace(channel(A, "Acme", *(link(i, f"L{i:04}", message) for i in range(n))))
    want = desired(dc(A, "Acme", *(dl(f"L{i:04}", message + "!") for i in range(n))))
    return planner.build(want, actual, force=True)


def test_a_banner_lists_50_urls_then_says_how_many_more() -> None:
    out = render_plan(_many(60))
    banner = [line for line in out.splitlines() if line.startswith("> - ")]
    assert len(banner) == 51
    assert banner[0] == f"> - `{A}` / L0000: `https://tiktok.me/{A}?message=m`"
    assert banner[49].startswith(f"> - `{A}` / L0049: ")
    assert banner[50] == "> - … and 10 more"
    assert "**60 link(s) get a new URL.**" in out
    assert len(table_rows(out)) == 61  # small enough to be whole


def test_a_huge_plan_is_cut_in_the_middle_under_65000_characters() -> None:
    total = 1500
    plan = _many(total, message="Hello and welcome to our shop! " * 8)
    out = render_plan(plan)
    assert len(out) <= MAX_CHARS
    lines = out.splitlines()
    # The summary and the banners' counts are never cut.
    assert lines[0] == f"**reconciler** — Plan: {total} to regenerate (NEW URL)."
    assert f"> **{total} link(s) get a new URL.** The old URLs keep working" in out
    # Long URLs: the banner stops before 50 of them, and says how many it left out.
    banner = [line for line in lines if line.startswith("> - ")]
    assert 1 < len(banner) < 51
    assert banner[-1] == f"> - … and {total - len(banner) + 1} more"
    assert sum(len(line) for line in banner) < 21_000
    rows = [r for r in table_rows(out) if "regenerate" in r]
    (marker,) = [line for line in lines if "left out here" in line]
    omitted = int(re.search(r"\*\*(\d+) change\(s\) left out here\*\*", marker).group(1))  # type: ignore[union-attr]
    assert omitted > 0
    assert len(rows) + omitted == total
    # The first and the last changes are kept; the middle is what goes.
    titles = [cells(r)[1] for r in rows]
    assert titles[0] == "L0000" and titles[-1] == f"L{total - 1:04}"
    assert f"L{total // 2:04}" not in titles
    # Details only for the changes shown.
    assert out.count("**regenerate** `acmepets` / ") == len(rows)


def test_the_cut_keeps_half_from_each_end_and_fills_the_limit() -> None:
    plan = _many(40)
    full = render_plan(plan)
    limit = len(full) // 2
    out = render_plan(plan, limit=limit)
    assert len(out) <= limit
    titles = [cells(r)[1] for r in table_rows(out) if "regenerate" in r]
    kept = len(titles)
    assert titles == [f"L{i:04}" for i in range((kept + 1) // 2)] + [
        f"L{i:04}" for i in range(40 - kept // 2, 40)
    ]
    assert f"**{40 - kept} change(s) left out here**" in out
    assert f"under {limit:,} characters" in out
    # As many as fit: one change costs about 225 characters here.
    assert len(out) > limit - 225
    assert len(table_rows(render_plan(plan, limit=limit + 600))) > len(table_rows(out))


def test_a_plan_that_fits_is_not_cut() -> None:
    plan = _every()
    out = render_plan(plan)
    assert render_plan(plan, limit=len(out)) == out
    assert "left out" not in out


def test_thousands_of_diagnostics_are_cut_too() -> None:
    actual = WorkspaceState(tuple(channel(f"shop{i:05}", "Shop") for i in range(3000)))
    plan = planner.build(desired(), actual)
    out = render_plan(plan)
    assert len(out) <= MAX_CHARS
    assert out.splitlines()[0] == "**reconciler** — No changes."
    shown = out.count("`unmanaged-channel`")
    assert 0 < shown < 3000
    assert (
        f"- … and {3000 - shown} more diagnostic(s): run `reconciler plan` to see them all" in out
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_limits_still_give_the_summary(n: int) -> None:
    plan = _many(n + 5)
    out = render_plan(plan, limit=600)
    assert out.splitlines()[0] == f"**reconciler** — Plan: {n + 5} to regenerate (NEW URL)."
