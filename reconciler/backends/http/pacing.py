"""Pacing: every request of one client waits its turn, so the API's rate limit is met by
spacing requests rather than spent on refusals (``Pacer``, shared by all worker threads).

What the pacer goes by, best first:

- **The server's word.** ``RateLimit-Policy`` (the quota ``q`` per window ``w`` seconds) and
  ``RateLimit`` (``r`` units remaining, ``t`` seconds until the quota resets), as the IETF
  draft httpapi-ratelimit-headers (-08 and later) spells them; else the earlier drafts'
  ``RateLimit-Limit``/``-Remaining``/``-Reset`` or the common ``X-RateLimit-*`` triple. A
  policy is paced at ``q/w`` (the strictest, when several are given); without one, the
  remaining quota is spread over the time until it resets (``r/t``). Quota left beyond a
  quarter second's reserve may be spent ahead of the pace, up to a second's worth (a late
  thread catches up, a full quota is used); nothing left: wait for the next unit.
- **Refusals**, when the server says nothing (AIMD, as TCP finds a link's capacity): the first
  ``429`` sets the pace to what the server accepted since the start, spread over that time and
  the ``Retry-After`` it asked for; each later ``429`` slows the pace by a tenth (once for the
  requests sent at one pace: those already under way were sent before the slow-down); every
  second without one raises it by a hundredth, gently probing upward (by a twentieth while
  below 97% of the pace last refused, known to have held until then).

Every ``429`` also pauses all requests for its ``Retry-After``. No wait is longer than
``max_wait`` (the retry policy's ``retry_after_max``), and none happens in stamina's test mode
(``stamina.set_testing``), which turns off every wait of a retry.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import stamina

#: What a refusal leaves of the pace, and how much a second without one adds to it.
DECREASE = 0.9
PROBE_PER_SECOND = 0.01
#: Below this share of the pace last refused, the pace climbs back faster (it is known to
#: have held until just now): a twentieth a second.
RECOVER_BELOW = 0.97
RECOVER_PER_SECOND = 0.05
#: When the server states its remaining quota, the pace may run ahead into it by up to this
#: many seconds' worth (a late thread catches up; a fresh quota is used), keeping a reserve.
CATCH_UP = 1.0
RESERVE = 0.25
#: The fastest pace a server's word sets (requests a second): past it, as good as unpaced.
FASTEST = 1e9
#: A ``Reset`` this large is a Unix time (GitHub's ``X-RateLimit-Reset``), not seconds.
_EPOCH = 1_000_000_000
_PARAM = re.compile(r"\s*;\s*([A-Za-z*][A-Za-z0-9_.*-]*)=([^;,]*)")


@dataclass(frozen=True, slots=True)
class Limit:
    """What a response says of the rate limit: ``rate`` (requests a second the policy
    allows; None when no policy is stated), ``remaining`` units and ``reset`` seconds until
    the quota resets (each None when not stated)."""

    rate: float | None
    remaining: float | None
    reset: float | None


def _number(text: str | None) -> float | None:
    """A finite, non-negative number of a header or parameter, or None."""
    try:
        value = float((text or "").strip().strip('"'))
    except ValueError:
        return None
    return value if 0 <= value < float("inf") else None


def _members(value: str | None) -> list[dict[str, str]]:
    """The parameters of each member of a Structured Fields list (``"a";q=10;w=1, b;q=5``)."""
    found = (
        {key.lower(): text for key, text in _PARAM.findall(m)} for m in (value or "").split(",")
    )
    return [params for params in found if params]


def parse_limit(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> Limit | None:
    """The rate limit ``headers`` state, or None when they state none (see the module
    docstring for the fields read); ``now`` is the wall clock, for a reset given as a Unix
    time."""
    rates = []
    for params in _members(headers.get("RateLimit-Policy")):
        quota, window = _number(params.get("q")), _number(params.get("w", "1"))
        if quota is not None and window:
            rates.append(quota / window)
    current = _members(headers.get("RateLimit"))
    remaining = reset = None
    if current:
        remaining = min(
            (r for p in current if (r := _number(p.get("r"))) is not None), default=None
        )
        reset = min((t for p in current if (t := _number(p.get("t"))) is not None), default=None)
    else:
        for prefix in ("RateLimit-", "X-RateLimit-"):
            remaining = _number(headers.get(prefix + "Remaining"))
            reset = _number(headers.get(prefix + "Reset"))
            if remaining is not None or reset is not None:
                break
    if reset is not None and reset > _EPOCH:
        reset = max(0.0, reset - now())
    rate = min(rates) if rates else None
    if rate is None and remaining is None:
        return None
    return Limit(rate=rate, remaining=remaining, reset=reset)


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # not "²", which str.isdigit() takes too
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" or no zone: an HTTP-date is always GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - now())


class Pacer:
    """When each request of one client may start (see the module docstring). Thread-safe:
    one pacer serves every worker thread of a client. ``clock`` and ``sleep`` are
    injectable for tests."""

    def __init__(
        self,
        *,
        max_wait: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """A pacer that paces nothing until a response tells it to; no wait over
        ``max_wait`` seconds."""
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        #: Seconds between request starts; 0 while unpaced.
        self._interval = 0.0
        self._next = 0.0
        self._paused_until = 0.0
        self._catch_up = 0.0
        #: The server states its limit: refusals then only pause.
        self._told = False
        self._first: float | None = None
        self._accepted = 0
        self._cut_at = float("-inf")
        self._first_cut = float("nan")
        self._first_window = 1.0
        #: The pace of the last refusal but the first (0: none yet).
        self._refused = 0.0
        self._probed_at = 0.0

    @property
    def rate(self) -> float | None:
        """Requests a second the pacer allows now; None while unpaced."""
        with self._lock:
            return 1.0 / self._interval if self._interval else None

    def wait(self) -> float:
        """Wait for this request's turn; the time (``clock``) it may start."""
        with self._lock:
            now = self._clock()
            if self._first is None:
                self._first = now
            start = max(now, self._paused_until)
            if self._interval:
                # A schedule fallen behind by up to ``_catch_up`` is kept (late starts catch
                # up); further behind, it starts again from now.
                start = max(start, self._next)
                self._next = max(self._next, start - self._catch_up) + self._interval
        delay = min(start - now, self._max_wait)
        if delay <= 0 or stamina.is_testing():
            return now
        self._sleep(delay)
        with self._lock:
            # A refusal while this request slept pauses it too.
            pause = min(self._paused_until - self._clock(), self._max_wait)
        if pause > 0:
            self._sleep(pause)
        return self._clock()

    def observe(
        self, status: int, headers: Mapping[str, str], *, sent: float, retry_after: float | None
    ) -> None:
        """Learn from the answer (``status``, ``headers``, the ``Retry-After`` it asked for)
        to a request that started at ``sent``."""
        limit = parse_limit(headers)
        with self._lock:
            now = self._clock()
            if limit is not None:
                self._follow(limit, now)
            if status == 429:
                pause = min(retry_after or 0.0, self._max_wait)
                self._paused_until = max(self._paused_until, now + pause)
                if not self._told:
                    self._slow_down(now, sent, pause)
                return
            self._accepted += 1
            if self._interval and not self._told:
                if sent < self._cut_at == self._first_cut:
                    # Accepted before the first refusal, answered after it: part of the
                    # quota the first pace was drawn from.
                    self._set_rate(1.0 / self._interval + 1.0 / self._first_window)
                else:
                    self._probe(now)

    def _set_rate(self, rate: float) -> None:
        self._interval = min(1.0 / max(rate, 1e-6), self._max_wait)

    def _follow(self, limit: Limit, now: float) -> None:
        """Pace as the server states."""
        self._told = True
        rate = limit.rate
        if rate is None and limit.remaining is not None:
            rate = max(limit.remaining, 1.0) / max(limit.reset or 1.0, 1e-3)
        if rate is None:
            return
        self._set_rate(min(rate, FASTEST))
        # The pace as kept: a quota of 0 (or of nearly nothing) is one request per max_wait.
        rate = 1.0 / self._interval if self._interval else FASTEST
        remaining = limit.remaining
        if remaining is None:
            self._catch_up = 0.0
        else:
            # What is left beyond a reserve may be spent ahead of the pace, within bounds.
            spare = remaining - max(2.0, rate * RESERVE)
            self._catch_up = min(max(spare / rate, 0.0), CATCH_UP)
        if remaining is not None and remaining < 1:
            self._paused_until = max(self._paused_until, now + self._interval)

    def _slow_down(self, now: float, sent: float, pause: float) -> None:
        """A refusal with no stated limit: slow down (the first: to the pace accepted so
        far), once for the requests sent at one pace."""
        if sent < self._cut_at:
            return
        if not self._interval:
            assert self._first is not None
            self._first_cut = now
            self._first_window = now - self._first + max(pause, 1.0)
            self._set_rate(max(self._accepted, 1) / self._first_window)
        else:
            self._refused = 1.0 / self._interval
            self._set_rate(DECREASE * self._refused)
        self._catch_up = 0.0
        self._cut_at = now
        self._probed_at = now + pause

    def _probe(self, now: float) -> None:
        """Probe upward, a hundredth of the pace for every second without a refusal (a
        twentieth while well below the pace last refused)."""
        elapsed = now - self._probed_at
        if elapsed >= 0.1:
            rate = 1.0 / self._interval
            step = RECOVER_PER_SECOND if rate < RECOVER_BELOW * self._refused else PROBE_PER_SECOND
            self._set_rate(rate * (1.0 + step * elapsed))
            self._probed_at = now
