"""The page of links in a real browser (headless Chromium, the ``browser`` fixture): every URL
once per link, every QR code decoded from a screenshot back to its link's URL, a copy button
putting the URL on the clipboard, the search box filtering, a changed link marked with its old
URL, readable on a phone, whole with scripts off, and not one request beyond the page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from reconciler import page
from reconciler.render.html import render_page
from tests.helpers import OLD_VIP, PAGE_ROWS, VIP_CHANGE, link_row

ROWS = PAGE_ROWS


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = page.build(ROWS, [VIP_CHANGE], window="since 2026-03-01", workspace="local workspace")
    path = tmp_path_factory.mktemp("page") / "links.html"
    path.write_text(render_page(built), encoding="utf-8")
    return path


class Opened:
    """The page open in a fresh browser context, with every request it made."""

    def __init__(self, browser: Any, path: Path, **context: Any) -> None:
        self.context = browser.new_context(**context)
        self.requests: list[str] = []
        self.failed: list[tuple[str, str | None]] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on(
            "requestfailed", lambda request: self.failed.append((request.url, request.failure))
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )
        self.url = path.as_uri()
        self.page.goto(self.url)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def opened(browser: Any, page_file: Path) -> Iterator[Opened]:
    view = Opened(
        browser,
        page_file,
        viewport={"width": 1280, "height": 900},
        device_scale_factor=2,
        permissions=["clipboard-read", "clipboard-write"],
    )
    yield view
    assert view.requests == [view.url], "the page made a request beyond itself"
    assert view.errors == []
    view.close()


def test_every_url_once_per_link_and_every_qr_code_decodes_to_it(opened: Opened) -> None:
    cards = opened.page.locator("article.link")
    assert cards.count() == len(ROWS)
    text = opened.page.locator("body").inner_text()
    for i, expected in enumerate(ROWS):
        card = cards.nth(i)
        assert card.locator("h3").inner_text() == expected.title
        anchor = card.locator(".url a")
        assert anchor.inner_text() == expected.url
        assert anchor.get_attribute("href") == expected.url
        assert text.count(expected.url) == 1
        shot = card.locator("figure.qr svg").screenshot()
        (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        assert found.text == expected.url
    # the hostile title is text, not markup: nothing ran, nothing was added
    assert opened.page.evaluate("document.scripts.length") == 1
    assert opened.page.locator("b, img").count() == 0


def test_a_copy_button_puts_the_url_on_the_clipboard(opened: Opened) -> None:
    card = opened.page.locator("article.link").nth(3)
    button = card.locator("button.copy")
    assert button.is_visible()
    button.click()
    opened.page.wait_for_function("document.querySelectorAll('button.copy.done').length === 1")
    assert opened.page.evaluate("navigator.clipboard.readText()") == ROWS[3].url
    assert button.get_attribute("data-copied") == ROWS[3].url
    assert button.inner_text() == "Copied"


def test_search_filters_the_links_and_their_channels(opened: Opened) -> None:
    search = opened.page.locator("#q")
    assert search.is_visible()
    visible = opened.page.locator("article.link:visible")
    search.fill("giveaway")
    assert [visible.nth(i).locator("h3").inner_text() for i in range(visible.count())] == [
        ROWS[0].title
    ]
    assert opened.page.locator("section.channel:visible").count() == 1
    assert opened.page.locator("#count").inner_text() == "1 of 5 links"
    search.fill("bio acmepets.global")  # every word, anywhere in the card
    assert visible.count() == 1 and "日本語" in visible.first.inner_text()
    search.fill("%F0%9F%90%B6")  # a piece of a URL
    assert visible.count() == 2
    search.fill("nothing like this")
    assert visible.count() == 0
    search.fill("")
    assert visible.count() == len(ROWS)


def test_a_changed_link_is_marked_with_its_old_url(opened: Opened) -> None:
    changed = opened.page.locator("article.link.changed")
    assert changed.count() == 1
    assert changed.locator("h3").inner_text() == "VIP Program"
    assert changed.locator(".badge").inner_text() == "New URL"
    assert changed.locator(".old-url").inner_text() == OLD_VIP
    assert changed.locator(".url a").inner_text() == ROWS[1].url
    # the summary links to the card
    opened.page.locator("#changed a").first.click()
    assert opened.page.evaluate("location.hash") == f"#{changed.get_attribute('id')}"


def test_readable_on_a_phone(browser: Any, page_file: Path) -> None:
    """The narrowest phone still in use (320 CSS pixels): nothing sticks out sideways."""
    view = Opened(browser, page_file, viewport={"width": 320, "height": 640}, is_mobile=True)
    try:
        assert view.page.evaluate("document.documentElement.scrollWidth") <= 320
        cards = view.page.locator("article.link")
        for i in range(cards.count()):
            box = cards.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
        font = view.page.evaluate("getComputedStyle(document.body).fontSize")
        assert font == "16px"
        assert view.requests == [view.url]
    finally:
        view.close()


def test_whole_with_scripts_off(browser: Any, page_file: Path) -> None:
    view = Opened(browser, page_file, java_script_enabled=False)
    try:
        text = view.page.locator("body").inner_text()
        for expected in ROWS:
            assert text.count(expected.url) == 1
        # the codes are drawn by the script: none here, and the note says where to get them
        assert view.page.locator("figure.qr svg").count() == 0
        assert "reconciler qr writes them as files" in text
        assert view.page.locator("article.link.changed .old-url").inner_text() == OLD_VIP
        # no control that can't work: the search box and copy buttons stay hidden; a note
        # says how to search and copy instead
        assert not view.page.locator("#q").is_visible()
        assert view.page.locator("button.copy:visible").count() == 0
        assert "Scripts are off" in text
        view.page.locator("nav a").nth(1).click()
        assert view.page.evaluate("location.hash") == "#ch-2"
        assert view.requests == [view.url]
    finally:
        view.close()


def test_the_policy_blocks_a_request_the_page_would_make(browser: Any, tmp_path: Path) -> None:
    """Were escaping ever to fail, the Content-Security-Policy still stops any fetch: an image
    and a script slipped into the page do not load or run (the browser reports the image's
    request, blocked before it leaves)."""
    built = page.build(ROWS[:1], [], window="w", workspace="ws")
    rendered = render_page(built).replace(
        "</main>",
        '<img src="http://127.0.0.1:9/x.png"><script>document.title = "ran"</script></main>',
    )
    path = tmp_path / "tampered.html"
    path.write_text(rendered, encoding="utf-8")
    view = Opened(browser, path)
    try:
        assert view.page.title() != "ran"
        assert view.failed == [("http://127.0.0.1:9/x.png", "csp")]
        assert any("Content Security Policy" in e for e in view.errors)
    finally:
        view.close()


def test_codes_are_drawn_as_their_cards_near_the_screen(browser: Any, tmp_path: Path) -> None:
    """A long page draws only the codes near the screen; scrolled to the last card, its code
    is drawn and decodes to its URL; printed, every code is there."""
    rows = [
        link_row("acmepets", i, f"Link {i}", f"Offer {i} 🐶 café", f"r{i}") for i in range(1, 61)
    ]
    path = tmp_path / "long.html"
    path.write_text(render_page(page.build(rows, [], window="w", workspace="ws")), "utf-8")
    view = Opened(browser, path, viewport={"width": 1280, "height": 900})
    try:
        drawn = view.page.locator("figure.qr svg")
        view.page.wait_for_function("document.querySelector('figure.qr svg') !== null")
        assert 0 < drawn.count() < len(rows)
        last = view.page.locator("article.link").last
        last.scroll_into_view_if_needed()
        shot = last.locator("figure.qr svg").screenshot()
        (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        assert found.text == rows[-1].url
        view.page.emulate_media(media="print")
        view.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert drawn.count() == len(rows)
        assert view.requests == [view.url] and view.errors == []
    finally:
        view.close()
