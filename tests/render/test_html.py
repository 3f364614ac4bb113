"""The page of links as HTML text (``render.html``): self-contained (no address but the links',
a policy that forbids every fetch, style and script allowed by hash only), every value escaped
by the standard library, and changed links marked with their old URL. What a browser makes of
it is tests/render/test_html_browser.py."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from html.parser import HTMLParser

from reconciler import page, qr
from reconciler.links import ChangeStatus, LinkRow, UrlChangeRow
from reconciler.model import ChannelStatus, link_url
from reconciler.render.html import render_page
from reconciler.render.html.assets import asset
from reconciler.render.html.qrcode import SCALE
from tests.helpers import HOSTILE, OLD_VIP, PAGE_ROWS, VIP_CHANGE, link_row

ROWS = PAGE_ROWS
CHANGE = VIP_CHANGE


def render(rows: list[LinkRow] = ROWS, changes: list[UrlChangeRow] = [CHANGE]) -> str:  # noqa: B006
    built = page.build(rows, changes, window="since 2026-03-01", workspace="local workspace ws.db")
    return render_page(built)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each ``<script>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parsed(text: str) -> Tags:
    tags = Tags()
    tags.feed(text)
    return tags


def test_the_only_addresses_are_the_links() -> None:
    text = render()
    found = {html.unescape(u) for u in re.findall(r"https?://[^\s\"<>]+", text)}
    assert found == {r.url for r in ROWS} | {OLD_VIP}
    tags = parsed(text)
    # nothing that fetches: no src, no stylesheet or icon link, no form, no base
    assert not [t for t, a in tags.tags if "src" in a or t in ("link", "form", "base", "iframe")]
    hrefs = [a["href"] for t, a in tags.tags if t == "a" and a.get("href", "").startswith("http")]
    assert hrefs == [r.url for r in ROWS]
    assert text.count(' data-qr="') == len(ROWS)
    assert "xmlns" not in text


def test_the_policy_forbids_every_fetch_and_allows_the_style_and_script_by_hash() -> None:
    text = render()
    (policy,) = [
        a["content"]
        for t, a in parsed(text).tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy is not None
    rules = dict(rule.split(" ", 1) for rule in policy.split("; "))
    assert rules["default-src"] == "'none'" and rules["img-src"] == "'none'"
    assert rules["base-uri"] == "'none'" and rules["form-action"] == "'none'"

    def sha(name: str) -> str:
        digest = hashlib.sha256(asset(name).encode("utf-8")).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"

    assert rules["style-src"] == sha("page.css")
    assert rules["script-src"] == sha("page.js")
    assert f"<style>{asset('page.css')}</style>" in text
    assert f"<script>{asset('page.js')}</script>" in text


def test_every_value_is_escaped() -> None:
    text = render()
    tags = parsed(text)
    assert [t for t, _ in tags.tags].count("script") == 1
    assert [t for t, _ in tags.tags].count("img") == 0
    assert len(tags.scripts) == 1 and tags.scripts[0] == asset("page.js")
    assert html.escape(HOSTILE) in text
    assert "<bdi>" + html.escape(HOSTILE) + "</bdi>" in text
    # a lone surrogate can't break the encoding
    odd = render([link_row("acmepets", 9, "\ud800", "m")], [])
    assert "\\ud800" in odd and odd.encode("utf-8")


def test_a_changed_link_is_marked_with_its_old_url() -> None:
    text = render()
    assert text.count('class="link changed"') == 1
    card = text[text.index('class="link changed"') :]
    card = card[: card.index("</article>")]
    assert html.escape(OLD_VIP) in card and "New URL" in card
    assert '<a href="#changed">1 link got a new URL since 2026-03-01</a>' in text
    assert "No link got a new URL since 2026-03-01." in render(changes=[])
    # a change not applied yet marks nothing: the workspace still has the old URL
    pending = UrlChangeRow(
        channel="acmepets",
        title="VIP Program",
        where="ads",
        old_url=ROWS[1].url,
        new_url="https://tiktok.me/acmepets?message=next",
        status=ChangeStatus.NOT_APPLIED,
        current_url=ROWS[1].url,
    )
    assert 'class="link changed"' not in render(changes=[pending])


def test_a_link_removed_after_its_new_url_is_listed() -> None:
    gone = UrlChangeRow(
        channel="acmepets.global",
        title="Poster",
        where="print / QR codes",
        old_url="https://tiktok.me/acmepets.global?message=a",
        new_url="https://tiktok.me/acmepets.global?message=b",
        status=ChangeStatus.CHANGED_SINCE,
        current_url=None,
    )
    built = page.build(ROWS, [gone], window="w", workspace="ws")
    assert built.gone == (gone,) and built.changed == 0
    text = render_page(built)
    assert "Removed since" in text and "https://tiktok.me/acmepets.global?message=b" in text
    # a channel the page doesn't show: not listed
    elsewhere = page.build(ROWS[:3], [gone], window="w", workspace="ws")
    assert elsewhere.gone == ()


def test_a_url_no_qr_code_can_hold_says_so() -> None:
    long = link_row("acmepets", 5, "Long", "日本語" * 166 + "日本")
    text = render([long], [])
    assert ' data-qr="' not in text
    assert "too long for a QR code" in text


def test_a_disconnected_channel_says_so_and_the_page_is_deterministic() -> None:
    rows = [
        LinkRow(
            channel="zoo",
            title="T",
            ref=None,
            message="m",
            url=link_url("zoo", None, "m"),
            status=ChannelStatus.DISCONNECTED,
        )
    ]
    assert "disconnected: its links may not reach SleekFlow" in render(rows, [])
    assert render() == render()


def test_the_window_of_changed_since() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    default = page.window(None, now)
    assert default.label == "in the last 30 days (since 2026-10-26)"
    assert default.since == datetime(2026, 10, 26, 12, 0, tzinfo=UTC) and default.plan is None
    day = page.window("2026-03-01", now)
    assert (day.label, day.since) == ("since 2026-03-01", datetime(2026, 3, 1, tzinfo=UTC))
    moment = page.window("2026-03-01T09:30:00+02:00", now)
    assert moment.label == "since 2026-03-01T07:30:00+00:00"
    plan = page.window("plan.json", now)
    assert (plan.plan, plan.since, plan.label) == ("plan.json", None, "by the plan plan.json")


def test_each_code_is_carried_as_the_modules_of_its_links_code() -> None:
    """``data-qr`` holds exactly the modules ``reconciler qr`` encodes (the page's script
    draws them; tests/render/test_html_browser.py decodes what it draws)."""
    text = render()
    carried = [html.unescape(m) for m in re.findall(r' data-qr="([^"]*)"', text)]
    assert len(carried) == len(ROWS)
    for value, link in zip(carried, ROWS, strict=True):
        scale, quiet, width, packed = value.split(":")
        assert (int(scale), int(quiet)) == (SCALE, qr.QUIET_ZONE)
        matrix = qr.encode(link.url).matrix
        assert int(width) == len(matrix)
        bits = "".join(f"{byte:08b}" for byte in base64.b64decode(packed, validate=True))
        rows = [bits[i * len(matrix) : (i + 1) * len(matrix)] for i in range(len(matrix))]
        assert rows == ["".join(str(module) for module in row) for row in matrix]
        assert set(bits[len(matrix) ** 2 :]) <= {"0"} and len(bits) - len(matrix) ** 2 < 8
