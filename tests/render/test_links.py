"""Links, URL changes and history as text, CSV and JSON; CSV injection can't reach a
spreadsheet, and every CSV reads back with the csv module."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from reconciler.events import LinkEvent, UrlEvent
from reconciler.links import ChangeStatus, LinkRow, UrlChangeRow
from reconciler.model import ChannelStatus, link_url
from reconciler.render.links import (
    BOM,
    LINK_COLUMNS,
    neutralise,
    render_history,
    render_links,
    render_url_changes,
    to_csv,
)


def row(
    title: str = "VIP Program",
    message: str = "Join our VIP program",
    ref: str | None = "vip",
    channel: str = "acmepets",
    **kw: object,
) -> LinkRow:
    return LinkRow(channel, title, ref, message, link_url(channel, ref, message), **kw)  # type: ignore[arg-type]


def read_csv(text: str) -> list[dict[str, str]]:
    assert not text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text, newline="")))


# --- CSV injection --------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
@pytest.mark.parametrize("field", ["title", "message", "ref"])
def test_a_cell_that_would_start_a_formula_is_neutralised(start: str, field: str) -> None:
    payload = f'{start}HYPERLINK("https://evil.example","win")'
    values = {"title": "Safe", "message": "Safe", "ref": "safe"} | {field: payload}
    link = row(values["title"], values["message"], values["ref"])
    (back,) = read_csv(render_links([link], "csv"))
    assert back[field] == "'" + payload
    # nothing else is touched: the URL (what marketers copy) is exact
    assert back["url"] == link.url
    for other in {"title", "message", "ref"} - {field}:
        assert back[other] == values[other]


@pytest.mark.parametrize("value", ["  =1+1", " @SUM(A1)", "   -2"])
def test_leading_spaces_do_not_hide_a_formula(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value", ["Hi! =)", "50% off", "a-b", "", "email me@acme", "'quoted", "\u2212minus sign"]
)
def test_ordinary_values_are_left_alone(value: str) -> None:
    assert neutralise(value) == value


def test_csv_round_trips_awkward_values() -> None:
    links = [
        row('Comma, "quotes"', 'She said "hi", then left', None),
        row("Lines", "line one\nline two\r\nline three"),
        row("Emoji 🐶", "🐶" * 250, "emoji"),
        row("日本語", "こんにちは！", "bio_ja", channel="acmepets.global"),
    ]
    text = render_links(links, "csv")
    assert text.splitlines()[0] == ",".join(LINK_COLUMNS)
    assert "\r\n" in text  # RFC 4180 line ends
    back = read_csv(text)
    assert [b["url"] for b in back] == [lk.url for lk in links]
    assert [b["message"] for b in back] == [lk.message for lk in links]
    assert [b["title"] for b in back] == [lk.title for lk in links]
    assert back[0]["ref"] == ""  # no ref: an empty cell


def test_the_bom_option_for_excel() -> None:
    text = render_links([row()], "csv", bom=True)
    assert text.startswith("\ufeffchannel,")
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbfchannel,")
    assert read_csv(text.removeprefix(BOM)) == read_csv(render_links([row()], "csv"))
    # read as Excel does: utf-8-sig drops the mark
    decoded = text.encode("utf-8").decode("utf-8-sig")
    assert decoded == render_links([row()], "csv")


def test_to_csv_writes_none_as_an_empty_cell() -> None:
    assert to_csv([{"a": None, "b": "=x"}], ["a", "b"]) == "a,b\r\n,'=x\r\n"


def test_a_lone_surrogate_is_written_as_its_escape() -> None:
    odd = LinkRow("acmepets", "Odd \ud800", None, "x\udfff", "https://tiktok.me/acmepets?message=x")
    text = render_links([odd], "csv")
    assert text.encode("utf-8")  # always encodable
    (back,) = read_csv(text)
    assert (back["title"], back["message"]) == ("Odd \\ud800", "x\\udfff")


# --- links as text and JSON ------------------------------------------------------------------


def test_links_as_text_put_each_url_alone_on_a_line() -> None:
    links = [
        row(display_name="Acme Pets"),
        row("Bio", "Hi \x1b[31mthere", None, display_name="Acme Pets"),
        row(
            "Promo",
            "Hola",
            "p",
            channel="acmepets.global",
            display_name="Global",
            status=ChannelStatus.DISCONNECTED,
        ),
    ]
    text = render_links(links, "text")
    lines = text.splitlines()
    assert lines[0] == 'acmepets  "Acme Pets"'
    assert '  "VIP Program"  ref: vip' in lines
    assert "    " + links[0].url in lines
    assert "    " + links[1].url in lines
    assert '    message: "Hi \\u001b[31mthere"' in lines  # no escape reaches the terminal
    assert "\x1b" not in text
    assert any(line.startswith("acmepets.global") and "disconnected" in line for line in lines)
    assert lines[-1] == "3 links in 2 channels."
    assert render_links([], "text") == "No links.\n"


def test_links_as_json_are_exact_and_deterministic() -> None:
    links = [row(), row("Bio", "=1+1", None)]
    text = render_links(links, "json")
    assert text == render_links(links, "json")
    data = json.loads(text)
    assert data == {"links": [lk.to_dict() for lk in links]}
    assert data["links"][1]["message"] == "=1+1"  # JSON is for tools: raw values


# --- URL changes and history ----------------------------------------------------------------


def change(status: ChangeStatus, current: str | None) -> UrlChangeRow:
    return UrlChangeRow(
        "acmepets",
        "VIP Program",
        "ads",
        "https://tiktok.me/acmepets?message=old",
        "https://tiktok.me/acmepets?message=new",
        status,
        current,
    )


def test_url_changes_as_text() -> None:
    rows = [
        change(ChangeStatus.APPLIED, "https://tiktok.me/acmepets?message=new"),
        change(ChangeStatus.NOT_APPLIED, "https://tiktok.me/acmepets?message=old"),
        change(ChangeStatus.CHANGED_SINCE, "https://tiktok.me/acmepets?message=other"),
        change(ChangeStatus.CHANGED_SINCE, None),
    ]
    text = render_url_changes(rows, "text", source="p.json")
    assert text.startswith("p.json regenerates 4 links.")
    assert "  acmepets / VIP Program  (likely in: ads)" in text
    assert "    old: https://tiktok.me/acmepets?message=old" in text
    assert "    new: https://tiktok.me/acmepets?message=new" in text
    assert "status: applied" in text
    assert "status: not applied yet" in text
    assert "URL is now https://tiktok.me/acmepets?message=other" in text
    assert "no longer in the workspace" in text
    empty = render_url_changes([], "text", source="p.json")
    assert empty == "p.json regenerates no link: no URL to replace.\n"


def test_url_changes_as_csv_and_json() -> None:
    rows = [change(ChangeStatus.APPLIED, "https://tiktok.me/acmepets?message=new")]
    (back,) = read_csv(render_url_changes(rows, "csv", source="p.json"))
    assert back == {k: ("" if v is None else str(v)) for k, v in rows[0].to_dict().items()}
    data = json.loads(render_url_changes(rows, "json", source="p.json"))
    assert data == {"plan": "p.json", "url_changes": [rows[0].to_dict()]}


def event(kind: LinkEvent, old: str | None, new: str | None, at: str) -> UrlEvent:
    return UrlEvent(
        channel="acmepets", link_id="7", title="VIP", event=kind, old_url=old, new_url=new, at=at
    )


HISTORY = [
    event(LinkEvent.CREATED, None, "u1", "t1"),
    event(LinkEvent.REGENERATED, "u1", "u2", "t2"),
    event(LinkEvent.REMOVED, "u2", None, "t3"),
]


def test_history_as_text_csv_and_json() -> None:
    text = render_history(HISTORY, "text", account="acmepets", title="VIP")
    assert text.splitlines() == [
        'URL history of acmepets / "VIP", oldest first:',
        't1  created      "VIP"',
        "    url: u1",
        't2  regenerated  "VIP"',
        "    old: u1",
        "    new: u2",
        't3  removed      "VIP"',
        "    url: u2  (still works, no longer tracked)",
    ]
    assert render_history([], "text", account="acme") == "No history for acme.\n"
    back = read_csv(render_history(HISTORY, "csv", account="acmepets"))
    assert [(b["channel"], b["event"], b["old_url"], b["new_url"]) for b in back] == [
        ("acmepets", "created", "", "u1"),
        ("acmepets", "regenerated", "u1", "u2"),
        ("acmepets", "removed", "u2", ""),
    ]
    data = json.loads(render_history(HISTORY, "json", account="acmepets"))
    assert data == {
        "channel": "acmepets",
        "since": None,
        "history": [e.to_dict() for e in HISTORY],
    }
    assert data["history"][1] == {
        "at": "t2",
        "channel": "acmepets",
        "title": "VIP",
        "event": "regenerated",
        "old_url": "u1",
        "new_url": "u2",
        "link_id": "7",
    }


def test_history_of_every_channel_since_a_day() -> None:
    march = datetime(2026, 3, 1, tzinfo=UTC)
    text = render_history(HISTORY[1:2], "text", since=march)
    assert text.splitlines() == [
        "URL history of every channel since 2026-03-01T00:00:00+00:00, oldest first:",
        't2  regenerated  acmepets / "VIP"',
        "    old: u1",
        "    new: u2",
    ]
    assert render_history([], "text", since=march) == (
        "No URL history since 2026-03-01T00:00:00+00:00.\n"
    )
    assert render_history([], "text") == "No URL history.\n"
    data = json.loads(render_history(HISTORY, "json", since=march))
    assert (data["channel"], data["since"]) == (None, "2026-03-01T00:00:00+00:00")


def test_url_changes_since_a_day() -> None:
    march = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [change(ChangeStatus.APPLIED, "https://tiktok.me/acmepets?message=new")]
    text = render_url_changes(rows, "text", since=march)
    assert text.startswith("1 link got a new URL since 2026-03-01T00:00:00+00:00. Replace")
    assert "    old: https://tiktok.me/acmepets?message=old" in text
    assert render_url_changes([], "text", since=march) == (
        "No link got a new URL since 2026-03-01T00:00:00+00:00: nothing to replace.\n"
    )
    data = json.loads(render_url_changes(rows, "json", since=march))
    assert data == {"since": "2026-03-01T00:00:00+00:00", "url_changes": [rows[0].to_dict()]}
