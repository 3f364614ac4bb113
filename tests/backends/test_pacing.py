"""Pacing (``reconciler.backends.http.pacing``): the rate limit the headers state, the pace a
``Pacer`` keeps on a clock it is handed, and, against a real ``sandbox serve`` on loopback with
a token bucket, how many requests the server itself answered 429 with and without the
RateLimit headers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.backends.http import HttpBackend
from reconciler.backends.http.pacing import Limit, Pacer, parse_limit, parse_retry_after
from reconciler.backends.local import LocalBackend
from reconciler.sandbox.app import CONTROL_PATH
from tests.helpers import SandboxFactory

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({}, None, id="none"),
        pytest.param(
            {"RateLimit-Policy": '"default";q=100;w=10', "RateLimit": '"default";r=50;t=30'},
            Limit(rate=10.0, remaining=50.0, reset=30.0),
            id="draft-10",
        ),
        pytest.param(
            {"RateLimit-Policy": 'burst;q=100;w=1, "day";q=86400;w=86400'},
            Limit(rate=1.0, remaining=None, reset=None),
            id="the-strictest-policy",
        ),
        pytest.param(
            {"RateLimit-Policy": '"p";q=5', "RateLimit": '"p";r=0;t=1, "q";r=7;t=9'},
            Limit(rate=5.0, remaining=0.0, reset=1.0),
            id="window-1s-by-default-least-remaining",
        ),
        pytest.param(
            {"RateLimit-Limit": "60", "RateLimit-Remaining": "12", "RateLimit-Reset": "4"},
            Limit(rate=None, remaining=12.0, reset=4.0),
            id="draft-06-triple",
        ),
        pytest.param(
            {"X-RateLimit-Remaining": "4990", "X-RateLimit-Reset": str(int(NOW) + 3000)},
            Limit(rate=None, remaining=4990.0, reset=3000.0),
            id="x-ratelimit-unix-time",
        ),
        pytest.param(
            {"RateLimit-Policy": '"p";q=abc;w=0', "X-RateLimit-Remaining": "-3"},
            None,
            id="nonsense-ignored",
        ),
    ],
)
def test_the_limit_the_headers_state(headers: dict[str, str], expected: Limit | None) -> None:
    assert parse_limit(httpx.Headers(headers), now=lambda: NOW) == expected


class FakeTime:
    """A clock that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pacer(max_wait: float = 30.0) -> tuple[Pacer, FakeTime]:
    fake = FakeTime()
    return Pacer(max_wait=max_wait, clock=fake.clock, sleep=fake.sleep), fake


def starts(p: Pacer, n: int) -> list[float]:
    return [p.wait() for _ in range(n)]


def test_unpaced_until_told_then_at_the_stated_rate() -> None:
    p, _fake = pacer()
    assert starts(p, 3) == [100.0, 100.0, 100.0] and p.rate is None
    p.observe(200, {"RateLimit-Policy": '"s";q=4;w=1'}, sent=100.0, retry_after=None)
    assert p.rate == 4.0
    times = starts(p, 5)
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [0.25] * 4


def test_quota_left_beyond_the_reserve_is_spent_ahead_of_the_pace() -> None:
    p, fake = pacer()
    # 40 a second, 40 left: up to (40 - 10) / 40 = 0.75 s of the pace may go at once.
    p.observe(200, {"RateLimit-Policy": "s;q=40", "RateLimit": "s;r=40;t=0"}, sent=100.0,
              retry_after=None)  # fmt: skip
    times = starts(p, 40)
    assert times[:30] == [100.0] * 30
    assert times[30] > 100.0
    # Nothing left: wait for the next unit before anything else starts.
    p.observe(200, {"RateLimit-Policy": "s;q=40", "RateLimit": "s;r=0;t=1"}, sent=fake.now,
              retry_after=None)  # fmt: skip
    before = fake.now
    assert p.wait() >= before + 1 / 40


def test_a_429_pauses_every_request_for_its_retry_after() -> None:
    p, _fake = pacer()
    p.observe(200, {"RateLimit-Policy": "s;q=100"}, sent=100.0, retry_after=None)
    p.observe(429, {"RateLimit-Policy": "s;q=100"}, sent=100.0, retry_after=2.0)
    assert p.wait() == 102.0
    assert p.rate == 100.0  # the server states its limit: a refusal doesn't change the pace


def test_without_headers_the_first_429_paces_at_what_was_accepted() -> None:
    p, fake = pacer()
    for _ in range(10):
        p.observe(200, {}, sent=p.wait(), retry_after=None)
    fake.now = 101.0
    # 10 accepted in 1 s, and the server asks for 1 s more: 5 a second.
    p.observe(429, {}, sent=100.5, retry_after=1.0)
    assert p.rate == pytest.approx(5.0)
    assert p.wait() == 102.0
    # An answer to a request sent before the refusal was part of that quota: 11 in 2 s.
    p.observe(200, {}, sent=100.9, retry_after=None)
    assert p.rate == pytest.approx(5.5)


def test_without_headers_later_429s_slow_down_once_a_pace_and_success_probes_upward() -> None:
    p, fake = pacer()
    p.observe(200, {}, sent=p.wait(), retry_after=None)
    p.observe(429, {}, sent=100.0, retry_after=0.0)  # first: 1 accepted over 1 s
    assert p.rate == pytest.approx(1.0)
    fake.now = 110.0
    p.observe(200, {}, sent=109.0, retry_after=None)  # 10 s without a refusal: +10%
    assert p.rate == pytest.approx(1.1)
    p.observe(429, {}, sent=110.0, retry_after=None)
    assert p.rate == pytest.approx(0.99)
    p.observe(429, {}, sent=109.5, retry_after=None)  # sent before that slow-down: no more
    assert p.rate == pytest.approx(0.99)
    fake.now = 111.0
    p.observe(200, {}, sent=110.5, retry_after=None)  # well below the 1.1 refused: +5% a second
    assert p.rate == pytest.approx(0.99 * 1.05)


def test_no_wait_is_longer_than_max_wait_and_none_in_stamina_test_mode() -> None:
    p, fake = pacer(max_wait=0.05)
    p.observe(429, {"RateLimit-Policy": "s;q=1;w=60"}, sent=100.0, retry_after=30.0)
    assert p.rate == pytest.approx(20.0)  # 1/60 s is capped at one request per 0.05 s
    p.wait()
    assert fake.sleeps == [pytest.approx(0.05)]
    stamina.set_testing(True)
    try:
        assert starts(p, 3) == [fake.now] * 3
    finally:
        stamina.set_testing(False)


#: What a hostile or broken server may put where a number goes.
ODD = ["0", "-1", "-0", "1e308", "1e-320", "nan", "inf", "9" * 400, "1_0", "0x10", "²", "", '"3"',
       "0.0000001", "5", "abc"]  # fmt: skip
_odd = st.sampled_from(ODD)
_headers = st.fixed_dictionaries(
    {},
    optional={
        "RateLimit-Policy": st.builds('"p";q={};w={}'.format, _odd, _odd),
        "RateLimit": st.builds('"p";r={};t={}'.format, _odd, _odd),
        "X-RateLimit-Remaining": _odd,
        "X-RateLimit-Reset": _odd,
    },
)
_retry_after = st.one_of(
    st.none(),
    _odd,
    st.sampled_from(["Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT",
                     "Sun, 06 Nov 1994 08:49:37 -2359", "Thu, 01 Jan 1970 00:00:00 +9999"]),
    st.text(max_size=12),
)  # fmt: skip


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"RateLimit-Policy": '"p";q=0;w=1', "RateLimit": '"p";r=0;t=0'}, id="q=0"),
        pytest.param(
            {"RateLimit-Policy": '"p";q=1e308;w=1e-3', "RateLimit": '"p";r=9'}, id="q/w=inf"
        ),
    ],
)
def test_a_quota_of_nothing_or_of_infinity_is_paced_within_bounds(headers: dict[str, str]) -> None:
    p, fake = pacer(max_wait=0.5)
    p.observe(200, headers, sent=fake.now, retry_after=None)
    starts(p, 3)
    assert all(0 <= sleep <= 0.5 for sleep in fake.sleeps)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([200, 429]), _headers, _retry_after), max_size=8))
def test_whatever_the_headers_say_no_wait_is_past_max_wait(
    answers: list[tuple[int, dict[str, str], str | None]],
) -> None:
    p, fake = pacer(max_wait=0.5)
    for status, headers, retry_after in answers:
        sent = p.wait()
        wait = parse_retry_after(retry_after)
        assert wait is None or wait >= 0
        p.observe(status, headers, sent=sent, retry_after=wait)
        fake.now += 0.1
    p.wait()
    assert all(0 <= sleep <= 0.5 for sleep in fake.sleeps)


# --- against the sandbox --------------------------------------------------------------------


@pytest.fixture
def one_channel(tmp_path: Path) -> Iterator[Path]:
    store = tmp_path / "ws.db"
    backend = LocalBackend(store)
    backend.connect_channel("acmepets", "Acme Pets")
    backend.close()
    yield store


def counts(url: str) -> dict[str, int]:
    """The server's own counts: every request that reached its faults, and the 429s."""
    data: dict[str, Any] = httpx.get(url + CONTROL_PATH).json()["counts"]
    return {"requests": sum(data.values()), "429": data["throttle"]}


def create_all(url: str, n: int) -> None:
    """``n`` creates from 8 threads sharing one backend (so one pacer), as an apply does."""
    backend = HttpBackend(url, None, concurrency=8)
    channel = backend.read().channels[0]
    with ThreadPoolExecutor(8) as pool:
        made = list(
            pool.map(
                lambda i: backend.create_link(
                    channel.id, title=f"Link {i}", ref=None, message="m", key=f"key-{i}"
                ),
                range(n),
            )
        )
    backend.close()
    assert len({link.id for link in made}) == n


def test_with_the_rate_limit_headers_an_apply_meets_no_429(
    sandbox: SandboxFactory, one_channel: Path
) -> None:
    server = sandbox("--rate-limit", "40", "--control", store=one_channel)
    create_all(server.url, 120)
    seen = counts(server.url)
    # The read (channels, links) and the creates, none refused.
    assert seen == {"requests": 122, "429": 0}


def test_without_headers_an_apply_learns_the_limit_from_few_429s(
    sandbox: SandboxFactory, one_channel: Path
) -> None:
    server = sandbox("--rate-limit", "40", "--no-rate-limit-headers", "--control",
                     store=one_channel)  # fmt: skip
    create_all(server.url, 120)
    seen = counts(server.url)
    # The first refusals find the limit (up to the 8 requests under way then); after them
    # the pace holds: hammering would meet a 429 for most of the 80 creates past the bucket.
    assert seen["429"] <= 10, seen
    assert seen["requests"] == 122 + seen["429"]
