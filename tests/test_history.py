"""The URL history: a link followed through its renames, every channel's or one's, from a day
on, and the links whose URL changed since then (what to reprint). A real LocalBackend whose
clock is set by the test; the http backend's side is in tests/backends/test_http.py and
tests/cli/test_http_history.py."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from reconciler import history
from reconciler.backends.local import LocalBackend
from reconciler.errors import InvalidDate, SelectionError
from reconciler.events import LinkEvent, UrlEvent
from reconciler.links import ChangeStatus
from reconciler.model import link_url

from .helpers import channel, link, memory_backend, seed, workspace

MARCH = datetime(2026, 3, 1, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_link_history_follows_renames() -> None:
    with memory_backend() as backend:
        seed(
            backend, workspace(channel("acmepets", "Acme", link(1, "Old", "Hi"), link(2, "B", "x")))
        )
        ch = backend.read().channel("acmepets")
        assert ch is not None
        old, other = ch.links
        edits = (("Old", None, "Hi v2"), ("New", None, "Hi v2"), ("New", "r", "Hi v3"))
        for title, ref, message in edits:
            old = backend.update_link(
                ch.id, old.id, title=title, ref=ref, message=message, version=old.version
            )
        backend.update_link(ch.id, other.id, title="B", ref=None, message="y", version=1)
        rows = backend.history("acmepets")
    new = history.link_history(rows, "new")
    assert [(r.title, r.event) for r in new] == [
        ("Old", LinkEvent.CREATED),
        ("Old", LinkEvent.REGENERATED),
        ("New", LinkEvent.RENAMED),
        ("New", LinkEvent.REGENERATED),
    ]
    assert history.link_history(rows, "old") == new
    assert [r.event for r in history.link_history(rows, "B")] == ["created", "regenerated"]
    assert history.link_history(rows, "nothing") == []


def test_history_keeps_a_removed_link_apart_from_a_later_one_with_the_same_url(
    tmp_path: Path,
) -> None:
    store = LocalBackend(tmp_path / "ws.db")
    cid = store.connect_channel("acme", "Acme").id
    x = store.create_link(cid, title="X", ref="r", message="m", key="k1")
    x = store.update_link(cid, x.id, title="X renamed", ref="r", message="m", version=x.version)
    store.remove_link(cid, x.id, version=x.version)
    y = store.create_link(cid, title="Y", ref="r", message="m", key="k2")
    rows = store.history("acme")
    assert [r.event for r in history.link_history(rows, "X")] == ["created", "renamed", "removed"]
    assert {r.link_id for r in history.link_history(rows, "X renamed")} == {x.id}
    assert [r.link_id for r in history.link_history(rows, "Y")] == [y.id]
    store.close()


# --- since a day ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", MARCH),
        (" 2026-03-01 ", MARCH),
        ("2026-03-01T00:00:00Z", MARCH),
        ("2026-03-01T00:00", MARCH),
        ("2026-03-01T09:30:00+02:00", MARCH + timedelta(hours=7, minutes=30)),
        ("2026-03-01 09:30:00.250000z", MARCH + timedelta(hours=9, minutes=30, milliseconds=250)),
    ],
)
def test_a_date_or_a_time_is_a_moment_in_utc(text: str, expected: datetime) -> None:
    found = history.moment(text)
    assert found == expected
    assert found is not None and found.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    ["plan.json", "./2026-03-01", "2026-03-01.json", "2026-03-01 plan.json", "", "03/01/2026"],
)
def test_anything_else_is_not_a_moment(text: str) -> None:
    assert history.moment(text) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-02-30", "(day is out of range for month)"),
        ("2026-13-01", "(month must be in 1..12)"),
        ("2026-03-01T25:00", "(hour must be in 0..23)"),
        ("2026-03-01T09:30+25:00", "(an offset is under 24 hours)"),
        ("2026-3-1", "(not written as YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS]"),
        (" 2026-02-30T09:30:00Z ", "(day is out of range for month)"),
    ],
)
def test_text_shaped_like_a_date_that_names_no_day_is_invalid(text: str, why: str) -> None:
    # never None: links --changed-since would take it for a plan file's path
    with pytest.raises(InvalidDate) as raised:
        history.moment(text)
    message = str(raised.value)
    assert message.startswith(f"{text.strip()!r} is not a valid date or time {why}")
    assert message.endswith(f"; give {history.FORMS}")
    with pytest.raises(InvalidDate):
        history.since(text)


def test_since_takes_only_a_date_or_a_time() -> None:
    assert history.since("2026-03-01") == MARCH
    with pytest.raises(InvalidDate) as raised:
        history.since("March\x1b[2J")
    assert str(raised.value) == f"'March\\\\u001b[2J' is not {history.FORMS}"


def _march_workspace(tmp_path: Path) -> tuple[LocalBackend, Clock, dict[str, str]]:
    """A store edited before and after March 1st: Poster regenerated in February (printed
    since: nothing to do) and twice after (the URL printed before March 1st -> the last);
    Flyer renamed only; Bio regenerated back to the URL it had; Old removed after a new URL;
    Other (another channel) regenerated after."""
    clock = Clock(datetime(2026, 1, 10, 12, 0, tzinfo=UTC))
    b = LocalBackend(tmp_path / "ws.db", clock=clock)
    acme = b.connect_channel("AcmePets", "Acme").id
    other = b.connect_channel("other", "Other").id
    poster = b.create_link(acme, title="Poster", ref="print", message="v1", key="1")
    flyer = b.create_link(acme, title="Flyer", ref=None, message="f", key="2")
    bio = b.create_link(acme, title="Bio", ref="bio", message="b1", key="3")
    old = b.create_link(acme, title="Old", ref=None, message="o1", key="4")
    elsewhere = b.create_link(other, title="Ad", ref=None, message="a1", key="5")
    clock.now = datetime(2026, 2, 10, tzinfo=UTC)
    poster = b.update_link(acme, poster.id, title="Poster", ref="print", message="v2", version=1)
    clock.now = MARCH + timedelta(days=2)
    poster = b.update_link(acme, poster.id, title="Poster", ref="print", message="v3", version=2)
    b.update_link(acme, flyer.id, title="Flyer 2", ref=None, message="f", version=1)
    bio = b.update_link(acme, bio.id, title="Bio", ref="bio", message="b2", version=1)
    b.update_link(acme, bio.id, title="Bio", ref="bio", message="b1", version=2)
    old = b.update_link(acme, old.id, title="Old", ref=None, message="o2", version=1)
    b.remove_link(acme, old.id, version=old.version)
    b.update_link(other, elsewhere.id, title="Ad", ref=None, message="a2", version=1)
    clock.now = MARCH + timedelta(days=3)
    b.update_link(acme, poster.id, title="Poster!", ref="print", message="v4", version=3)
    urls = {
        "v2": link_url("AcmePets", "print", "v2"),
        "v4": link_url("AcmePets", "print", "v4"),
        "o1": link_url("AcmePets", None, "o1"),
        "o2": link_url("AcmePets", None, "o2"),
        "a1": link_url("other", None, "a1"),
        "a2": link_url("other", None, "a2"),
    }
    return b, clock, urls


def test_history_of_every_channel_or_one_from_a_day_on(tmp_path: Path) -> None:
    b, _, _ = _march_workspace(tmp_path)
    everything = history.history(b)
    assert len(everything) == 5 + 1 + 8  # creates, February, since March
    assert {e.channel for e in everything} == {"acmepets", "other"}
    since = history.history(b, since=MARCH)
    assert since == [e for e in everything if e.at >= "2026-03-01"]
    assert all(e.at.endswith("+00:00") for e in everything)
    assert [e.event for e in history.history(b, "OTHER", since=MARCH)] == ["regenerated"]
    assert history.history(b, "acmepets", "poster!", since=MARCH + timedelta(days=3)) == [since[-1]]
    # the time a day starts counts (inclusive); a moment later, it doesn't
    assert history.history(b, since=MARCH + timedelta(days=3)) == [since[-1]]
    assert history.history(b, since=MARCH + timedelta(days=3, seconds=1)) == []
    b.close()


def test_history_errors_name_what_there_is(tmp_path: Path) -> None:
    b, _, _ = _march_workspace(tmp_path)
    with pytest.raises(SelectionError, match=r"no channel 'nope' in local workspace .*"):
        history.history(b, "nope")
    with pytest.raises(SelectionError, match="channels: 'AcmePets', 'other'"):
        history.history(b, "nope", since=MARCH)
    with pytest.raises(SelectionError, match=r"no link titled 'Zed' .* since then; titles: "):
        history.history(b, "acmepets", "Zed", since=MARCH)
    # a channel with nothing since then is not an error: its history is empty there
    assert history.history(b, "other", since=MARCH + timedelta(days=3)) == []
    b.close()


def test_which_links_got_a_new_url_since_a_day(tmp_path: Path) -> None:
    b, _, urls = _march_workspace(tmp_path)
    changes = history.url_changes_since(history.history(b, since=MARCH), b.read())
    rows = [(c.channel, c.title, c.old_url, c.new_url, c.status, c.current_url) for c in changes]
    assert rows == [
        # the URL printed before March 1st, and the one to print now (its title now too)
        ("AcmePets", "Poster!", urls["v2"], urls["v4"], ChangeStatus.APPLIED, urls["v4"]),
        # removed after its new URL: nothing to print, its last URL works untracked
        ("AcmePets", "Old", urls["o1"], urls["o2"], ChangeStatus.CHANGED_SINCE, None),
        ("other", "Ad", urls["a1"], urls["a2"], ChangeStatus.APPLIED, urls["a2"]),
    ]
    assert changes[0].where == "print / QR codes"
    # before any of it: every regeneration since the start, Poster from its first URL
    whole = history.url_changes_since(history.history(b), b.read())
    assert whole[0].old_url == link_url("AcmePets", "print", "v1")
    assert (
        history.url_changes_since(history.history(b, since=MARCH + timedelta(days=4)), b.read())
        == []
    )
    b.close()


def test_url_changes_of_events_from_another_source_are_matched_by_channel_and_id() -> None:
    state = workspace(channel("acme", "Acme", link(7, "T", "new", account="acme")))
    old, new = link_url("acme", None, "old"), link_url("acme", None, "new")
    events = [
        UrlEvent(
            channel="acme",
            link_id="7",
            title="T",
            event=LinkEvent.REGENERATED,
            old_url=old,
            new_url=new,
            at="2026-03-02T00:00:00+00:00",
        ),
        UrlEvent(
            channel="zoo",
            link_id="7",
            title="Z",
            event=LinkEvent.REGENERATED,
            old_url="https://tiktok.me/zoo?message=a",
            new_url="https://tiktok.me/zoo?message=b",
            at="2026-03-02T00:00:00+00:00",
        ),
    ]
    (mine, theirs) = history.url_changes_since(events, state)
    assert (mine.channel, mine.status, mine.current_url) == ("acme", ChangeStatus.APPLIED, new)
    assert (theirs.channel, theirs.current_url) == ("zoo", None)


def test_a_clock_with_another_zone_is_written_in_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    b = LocalBackend(
        connection=sqlite3.connect(":memory:"),
        clock=lambda: datetime(2026, 3, 1, 1, 0, tzinfo=plus2),
    )
    cid = b.connect_channel("acme", "Acme").id
    b.create_link(cid, title="T", ref=None, message="m", key="k")
    (event,) = b.history()
    assert event.at == "2026-02-28T23:00:00+00:00"
    assert b.history(since=MARCH) == []
    b.close()
