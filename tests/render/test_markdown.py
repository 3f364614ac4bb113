"""The markdown plan for pull requests: golden files for the plans a team meets, how GitHub's
own parser reads them, one table row per change whatever the titles hold, and the
65,000-character limit.

Run ``UPDATE_GOLDEN=1 pytest tests/render/test_markdown.py`` to rewrite the golden files after
an intended change, then review their diff like any other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reconciler import plan as planner
from reconciler.model import ChannelStatus, WorkspaceState, link_url
from reconciler.plan import Plan
from reconciler.render.markdown import MAX_CHARS, cell, code, render_plan, size
from tests.helpers import channel, dc, desired, dl, every_action_plan, link, workspace

A = "acmepets"
GOLDEN = Path(__file__).parent / "golden"
NASTY = "a | b `c` <script>alert(1)</script>\nsecond\r\nthird \\| [x](https://evil.example) *b*"


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


# --- the plans of the golden files: literal states, no clock, no randomness ------------------


def plan_no_changes() -> Plan:
    actual = workspace(
        channel(A, "Acme Pets (US)", link(1, "Bio", "Hi!", "bio_link")),
        channel("zoo", "Zoo"),
    )
    return planner.build(desired(dc(A, "Acme Pets (US)", dl("Bio", "Hi!", "bio_link"))), actual)


def plan_only_creates() -> Plan:
    actual = workspace(channel(A, "Acme Pets (US)"), channel("acmepets.global", "Acme Global"))
    want = desired(
        dc(
            A,
            "Acme Pets (US)",
            dl("June Giveaway Bio Link", "Hi! I'd like to join the June giveaway.", "bio_link"),
            dl("Ad - Summer Sale", "Hi! I'd like to know more about the Summer Sale.", "summer"),
            dl(NASTY, "Hi @petlover! <b>15%</b> off | `code` *today*\nsee you", "odd"),
        ),
        dc(
            "acmepets.global",
            "Acme Global",
            dl("Bio Link - 日本語", "こんにちは！ペット用品について詳しく知りたいです。", "bio_ja"),
        ),
    )
    return planner.build(want, actual)


def plan_regenerations() -> Plan:
    long_old = "Hi! I'd like to know more about the Summer Sale and the free shipping offer. " * 2
    actual = workspace(
        channel(
            A,
            "Acme Pets (US)",
            link(1, "Ad - Summer Sale", long_old.strip(), "summer2025"),
            link(2, "June Giveaway Bio Link", "Hi! I'd like to join the June giveaway.", "bio"),
            link(3, "VIP Program", "Join our VIP program", "fb_ad_may2025"),
            link(4, "Story", "Story time"),
        )
    )
    want = desired(
        dc(
            A,
            "Acme Pets (US)",
            dl("Ad - Summer Sale", long_old.replace("Summer", "Autumn").strip(), "autumn2025"),
            dl("June Giveaway Bio Link", "Hi! I'd like to join the July giveaway.", "bio"),
            dl("VIP Program", "Join our VIP program", "tt_ad_jun2025"),
            dl("Story (renamed)", "Story time"),
        )
    )
    return planner.build(want, actual)


def plan_removals() -> Plan:
    actual = workspace(
        channel(
            A,
            "Acme Pets (US)",
            link(1, "Bio", "Hi!", "bio_link"),
            link(2, "Spring Promo", "Spring is here!", "spring_promo"),
            link(3, "Old Poster", "Scan me"),
        ),
        channel("oldbrand", "Old Brand", link(4, "Poster", "QR", account="oldbrand")),
    )
    want = desired(
        dc(A, "Acme Pets (US)", dl("Bio", "Hi!", "bio_link")),
        dc("oldbrand", remove=True),
    )
    return planner.build(want, actual)


def plan_disconnected_channel() -> Plan:
    actual = workspace(
        channel(
            A,
            "Acme Pets (US)",
            link(1, "Bio", "Hi!", "bio_link"),
            status=ChannelStatus.DISCONNECTED,
        ),
        channel("acmepets.global", "Acme Global", status=ChannelStatus.DISCONNECTED),
    )
    want = desired(
        dc(A, "Acme Pets (US)", dl("Bio", "Hello!", "bio_link"), dl("New", "Welcome")),
        dc("acmepets.global", "Acme Global"),
        dc("newshop", "New Shop", dl("Welcome", "Hi!")),
    )
    return planner.build(want, actual)


def plan_every_action() -> Plan:
    want, actual = every_action_plan()
    return planner.build(want, actual, can_connect=True)


#: The 5,000-change plan: 2,000 regenerations and 1,000 removals in one channel, 2,000
#: creates in another (forced past the bulk-change guard, as a planned mass change would be).
BIG_REGENERATE, BIG_REMOVE, BIG_CREATE = 2000, 1000, 2000


def plan_5000_changes() -> Plan:
    existing = [
        link(i, f"Link {i:04}", f"Hello from link {i}, welcome to Acme Pets!", f"ref_{i}")
        for i in range(BIG_REGENERATE + BIG_REMOVE)
    ]
    kept = [
        dl(f"Link {i:04}", f"Hello from link {i}, welcome to Acme Pets (new)!", f"ref_{i}")
        for i in range(BIG_REGENERATE)
    ]
    created = [dl(f"Promo {i:04}", f"Promo {i}: 10% off today", f"promo_{i}") for i in range(2000)]
    actual = workspace(channel(A, "Acme Pets (US)", *existing), channel("shop2", "Shop Two"))
    want = desired(dc(A, "Acme Pets (US)", *kept), dc("shop2", "Shop Two", *created))
    return planner.build(want, actual, force=True)


PLANS: dict[str, Callable[[], Plan]] = {
    "no-changes": plan_no_changes,
    "only-creates": plan_only_creates,
    "regenerations": plan_regenerations,
    "removals": plan_removals,
    "disconnected-channel": plan_disconnected_channel,
    "every-action": plan_every_action,
    "5000-changes": plan_5000_changes,
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return {name: render_plan(build()) for name, build in PLANS.items()}


@pytest.mark.parametrize("name", PLANS)
def test_golden(name: str, rendered: dict[str, str]) -> None:
    path = GOLDEN / f"{name}.md"
    out = rendered[name]
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(out.encode("utf-8"))
    assert path.exists(), f"no golden file {path}: run with UPDATE_GOLDEN=1 to write it"
    golden = path.read_bytes().decode("utf-8")
    assert out == golden, f"{name}: the markdown differs from {path} (UPDATE_GOLDEN=1 rewrites)"


def test_rendering_is_deterministic() -> None:
    assert render_plan(plan_every_action()) == render_plan(plan_every_action())


# --- what the golden files say ---------------------------------------------------------------


def test_no_changes_is_one_line_and_a_note(rendered: dict[str, str]) -> None:
    out = rendered["no-changes"]
    assert out.splitlines()[0] == "**reconciler** — No changes."
    assert "[!" not in out and "| action |" not in out
    assert "`unmanaged-channel`: channel zoo (Zoo, connected)" in out


def test_only_creates_has_no_banner(rendered: dict[str, str]) -> None:
    out = rendered["only-creates"]
    assert out.splitlines()[0] == "**reconciler** — Plan: 4 to create."
    assert "[!WARNING]" not in out and "[!IMPORTANT]" not in out and "[!CAUTION]" not in out
    assert "### Acme Pets \\(US\\) (`acmepets`)" not in out  # parentheses are not escaped
    assert "### Acme Pets (US) (`acmepets`)" in out
    assert "### Acme Global (`acmepets.global`)" in out


def test_regenerations_list_the_old_urls_and_show_the_change(rendered: dict[str, str]) -> None:
    out = rendered["regenerations"]
    assert out.splitlines()[0] == ("**reconciler** — Plan: 1 to update, 3 to regenerate (NEW URL).")
    banner = out.split("> [!IMPORTANT]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert banner[0].startswith("> **3 links get a new URL.**")
    long_old = "Hi! I'd like to know more about the Summer Sale and the free shipping offer. " * 2
    old_url = link_url(A, "summer2025", long_old.strip())
    assert banner[1] == f"> - `acmepets` / Ad - Summer Sale: `{old_url}`"
    assert len(banner) == 4
    rows = {cells(r)[1]: cells(r) for r in table_rows(out)}
    # The message change, shortened, and both refs.
    assert rows["Ad - Summer Sale"][2] == (
        "ref summer2025 → autumn2025<br>"
        "message “Hi! I'd like to know more about the Summer Sale and the fre…” → "
        "“Hi! I'd like to know more about the Autumn Sale and the fre…”"
    )
    assert rows["June Giveaway Bio Link"][2] == (
        "message “Hi! I'd like to join the June giveaway.” → "
        "“Hi! I'd like to join the July giveaway.”"
    )
    assert rows["VIP Program"][2] == "ref fb\\_ad\\_may2025 → tt\\_ad\\_jun2025"
    assert rows["VIP Program"][3].startswith("old `https://tiktok.me/acmepets?ref=fb_ad_may2025")
    assert "<br>new `https://tiktok.me/acmepets?ref=tt_ad_jun2025&" in rows["VIP Program"][3]
    # The whole messages are in the detail.
    assert "free shipping offer. Hi! I'd like" in out.split("<details>", 1)[1]


def test_removals_banner(rendered: dict[str, str]) -> None:
    out = rendered["removals"]
    assert out.splitlines()[:4] == [
        "**reconciler** — Plan: 3 to remove (IRREVERSIBLE).",
        "",
        "> [!WARNING]",
        "> **3 irreversible removals, and 1 link the removed channel takes with it.** A removed "
        "link keeps working but can no longer be "
        "edited or tracked; a removed channel is disconnected from SleekFlow with all its links. "
        "Applying needs `--allow-removals`.",
    ]
    assert (
        "> - `acmepets` / Spring Promo: `https://tiktok.me/acmepets?ref=spring_promo&message="
        "Spring%20is%20here%21` (stays live, untracked)" in out
    )
    assert (
        "> - Old Brand (`oldbrand`): the channel is disconnected with its 1 link (listed); "
        "Flow Builder flows using it may break" in out
    )
    assert (
        "> - `oldbrand` / Poster: `https://tiktok.me/oldbrand?message=QR` (stays live, "
        "untracked; taken with the channel)" in out
    )


def test_disconnected_channel_is_a_caution_banner_with_the_fix(rendered: dict[str, str]) -> None:
    out = rendered["disconnected-channel"]
    lines = out.splitlines()
    assert lines[0] == "**reconciler** — Plan: 2 to create, 1 to regenerate (NEW URL)."
    assert lines[2:4] == [
        "> [!CAUTION]",
        "> **This plan cannot be applied: 2 errors.** Apply refuses it whole and changes "
        "nothing; fix the cause and plan again.",
    ]
    assert lines[4].startswith(
        "> - ❌ `channel-disconnected`: channel acmepets is disconnected: its 2 changes are "
        "blocked. The access token may have expired"
    )
    assert lines[5].startswith("> - ❌ `channel-not-connected`: channel newshop is not connected")
    # The disconnected channel without changes still shows, as a warning.
    assert "- ⚠️ **warning** `channel-disconnected`: channel acmepets.global is disconnected" in out


# --- the 5,000-change plan --------------------------------------------------------------------


def test_the_5000_change_plan_is_cut_under_the_limit(rendered: dict[str, str]) -> None:
    out = rendered["5000-changes"]
    total = BIG_REGENERATE + BIG_REMOVE + BIG_CREATE
    assert size(out) <= MAX_CHARS and len(out) <= MAX_CHARS
    assert len(out.encode("utf-8")) < 262_144
    lines = out.splitlines()
    # The summary and both banners' counts are kept whole.
    assert lines[0] == (
        f"**reconciler** — Plan: {BIG_CREATE} to create, {BIG_REGENERATE} to regenerate "
        f"(NEW URL), {BIG_REMOVE} to remove (IRREVERSIBLE)."
    )
    assert f"> **{BIG_REMOVE} irreversible removals.**" in out
    assert f"> **{BIG_REGENERATE} links get a new URL.**" in out
    warning = out.split("> [!WARNING]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(warning) == 1 + 50 + 1 and warning[-1] == f"> - … and {BIG_REMOVE - 50} more"
    important = out.split("> [!IMPORTANT]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert important[-1] == f"> - … and {BIG_REGENERATE - 50} more"
    # The left-out count is exact: shown rows + left out = every change.
    rows = table_rows(out)
    shown = len([r for r in rows if not r.startswith("| action |")])
    (marker,) = [line for line in lines if "left out here**" in line]
    omitted = int(re.search(r"\*\*(\d+) changes left out here\*\*", marker).group(1))  # type: ignore[union-attr]
    assert shown + omitted == total
    assert 100 < shown < total
    # ...and the marker says how to see all of them.
    assert "reconciler plan PATH... --format text" in marker and "artifact" in marker
    # First changes from the start, last from the end, the middle is what goes.
    titles = [cells(r)[1] for r in rows if not r.startswith("| action |")]
    assert titles[0] == "Link 0000" and titles[-1] == "Promo 1999"
    assert titles[: (shown + 1) // 2] == [f"Link {i:04}" for i in range((shown + 1) // 2)]
    # The detail is cut at the same place, and holds the shown changes only.
    detail = out.split("<details>", 1)[1]
    assert detail.count("✂️") == 1
    assert detail.count("\n**") == shown
    # Warnings are never cut: the forced bulk change is said.
    assert "`too-many-changes`: channel acmepets: the plan regenerates 2000 and removes 1000" in out


def test_cut_keeps_half_from_each_end_and_fills_the_limit() -> None:
    plan = _many(40)
    full = render_plan(plan)
    limit = size(full) // 2
    out = render_plan(plan, limit=limit)
    assert size(out) <= limit
    titles = [cells(r)[1] for r in table_rows(out) if "regenerate" in r]
    kept = len(titles)
    assert titles == [f"L{i:04}" for i in range((kept + 1) // 2)] + [
        f"L{i:04}" for i in range(40 - kept // 2, 40)
    ]
    assert f"**{40 - kept} changes left out here**" in out
    assert f"under {limit:,} characters" in out
    # As many as fit: one change costs about 300 characters here.
    assert size(out) > limit - 300
    assert len(table_rows(render_plan(plan, limit=limit + 700))) > len(table_rows(out))


def test_the_limit_counts_utf16_units() -> None:
    # Emoji outside the BMP count 2 (as JavaScript and some GitHub checks count them).
    plan = _many(300, message="🐶" * 200)
    out = render_plan(plan)
    assert size(out) <= MAX_CHARS
    assert size(out) > len(out)
    assert size("🐶a") == 3


def test_a_plan_that_fits_is_not_cut() -> None:
    plan = plan_every_action()
    out = render_plan(plan)
    assert render_plan(plan, limit=size(out)) == out
    assert "left out" not in out


def test_thousands_of_notes_are_cut_too() -> None:
    actual = WorkspaceState(tuple(channel(f"shop{i:05}", "Shop") for i in range(3000)))
    out = render_plan(planner.build(desired(), actual))
    assert size(out) <= MAX_CHARS
    assert out.splitlines()[0] == "**reconciler** — No changes."
    shown = out.count("`unmanaged-channel`")
    assert 0 < shown < 3000
    assert f"- … and {3000 - shown} more: run `reconciler plan PATH...` to see them all" in out


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_tiny_limits_still_give_the_summary(n: int) -> None:
    out = render_plan(_many(n + 5), limit=600)
    assert out.splitlines()[0] == f"**reconciler** — Plan: {n + 5} to regenerate (NEW URL)."


def test_a_banner_lists_50_urls_then_says_how_many_more() -> None:
    out = render_plan(_many(60))
    banner = [line for line in out.splitlines() if line.startswith("> - ")]
    assert len(banner) == 51
    assert banner[0] == f"> - `{A}` / L0000: `https://tiktok.me/{A}?message=m`"
    assert banner[49].startswith(f"> - `{A}` / L0049: ")
    assert banner[50] == "> - … and 10 more"
    assert "**60 links get a new URL.**" in out
    assert len(table_rows(out)) == 61  # small enough to be whole


def test_long_urls_end_a_banner_early() -> None:
    total = 1500
    out = render_plan(_many(total, message="Hello and welcome to our shop! " * 8))
    banner = [line for line in out.splitlines() if line.startswith("> - ")]
    assert 1 < len(banner) < 51
    assert banner[-1] == f"> - … and {total - len(banner) + 1} more"
    assert sum(size(line) for line in banner) < 16_000


def _many(n: int, message: str = "m") -> Plan:
    """n links, all regenerated (forced past the bulk guard)."""
    actual = workspace(channel(A, "Acme", *(link(i, f"L{i:04}", message) for i in range(n))))
    want = desired(dc(A, "Acme", *(dl(f"L{i:04}", message + "!") for i in range(n))))
    return planner.build(want, actual, force=True)


# --- escaping -----------------------------------------------------------------------------------


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
        "\\[x\\](https\\://evil.example) \\*b\\*"
    )
    rename = next(r for r in rows if "rename" in r)
    assert cells(rename)[2] == "display name Acme → Acme\\|\\`&lt;b&gt;\\`"
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
    assert cell("hi @petlover, a@b and @ alone") == "hi @&#8203;petlover, a@&#8203;b and @ alone"
    # "#2" in a comment links issue 2 and adds "mentioned this" to its timeline, every plan
    assert cell("Giveaway #2, acme/links#3, GH-4 and # 5") == (
        "Giveaway #&#8203;2, acme/links#&#8203;3, GH&#8203;-4 and # 5"
    )
    assert cell("@a #1") == "@&#8203;a #&#8203;1"
    assert cell("see https://x.example or WWW.x.example") == (
        "see https\\://x.example or WWW\\.x.example"
    )


def test_code() -> None:
    url = "https://tiktok.me/a?message=x"
    assert code(url) == f"`{url}`"
    assert code("a|b") == "`a\\|b`"
    assert code("a|b", in_table=False) == "`a|b`"
    assert code("a`b") == "``a`b``"
    assert code("`a") == "`` `a ``"
    assert code("a\nb") == "`a b`"


# --- as GitHub reads it ---------------------------------------------------------------------------


class _Html(HTMLParser):
    """What a GitHub comment renders to: the tags, the cells per row, the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.rows: list[int] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


#: Every tag the markdown may turn into: nothing from the data (no script, no img, no a).
ALLOWED_TAGS = {
    "p", "strong", "em", "code", "br", "h3", "blockquote", "ul", "li",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
}  # fmt: skip


def github_html(markdown: str) -> _Html:
    """``markdown`` through cmark-gfm (GitHub's own parser) with GitHub's extensions, raw HTML
    let through so an escaping mistake would show as a tag."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = _Html()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("name", [n for n in PLANS if n != "5000-changes"])
def test_github_renders_every_row_whole_and_no_html_from_data(
    name: str, rendered: dict[str, str]
) -> None:
    page = github_html(rendered[name])
    assert page.tags <= ALLOWED_TAGS, page.tags - ALLOWED_TAGS
    assert all(n == 4 for n in page.rows), page.rows
    assert len(page.rows) == len(table_rows(rendered[name]))
    text = "".join(page.text)
    assert "@petlover" not in text  # no mention (a zero-width space follows the @)


def test_github_shows_the_nasty_text_as_written() -> None:
    out = render_plan(plan_only_creates())
    page = github_html(out)
    text = "".join(page.text)
    assert "a | b `c` <script>alert(1)</script>" in text
    assert "Hi @\u200bpetlover! <b>15%</b> off | `code` *today*" in text
    assert page.tags <= ALLOWED_TAGS
