"""Seeded fault injection for ``sandbox serve``: latency, throttling, 5xx, dropped and reset
connections.

Every decision comes from one ``random.Random(seed)`` behind a lock, so a run with the same seed
and the same request order injects the same faults. ``FaultInjector.counts`` keeps how many of
each were injected, across reconfigurations (``sandbox serve --control`` changes the faults of a
running server).
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import asdict, dataclass, fields
from enum import Enum
from typing import Any


class Fault(Enum):
    """What happens to one request: nothing, or one kind of injected fault."""

    NONE = "none"
    THROTTLE = "throttle"  # 429 with Retry-After, nothing done
    UNAVAILABLE = "unavailable"  # 502/503/504, nothing done
    DROP_BEFORE = "drop-before"  # connection closed, nothing done
    RESET = "reset"  # connection reset (TCP RST: the client sees ECONNRESET), nothing done
    DROP_AFTER = "drop-after"  # the write commits, then the connection is closed unanswered


#: The shares of requests (0 to 1).
_RATES = (
    "fail_rate",
    "throttle_rate",
    "drop_before_commit_rate",
    "drop_after_commit_rate",
    "reset_rate",
)
#: The other numbers, with their largest value.
_LIMITS = {"latency_ms": 60_000, "rate_limit": 100_000, "retry_after": 3600}
_NUMBERS = (*_RATES, *_LIMITS)


def _option(name: str) -> str:
    """The ``sandbox serve`` option of a setting: ``fail_rate`` is ``--fail-rate``."""
    return "--" + name.replace("_", "-")


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which faults to inject and how often (rates are shares of requests, 0 to 1).
    ``rate_limit_headers``: every answer states the token bucket of ``rate_limit`` in
    ``RateLimit-Policy`` and ``RateLimit`` (``FaultInjector.rate_headers``).

    Raises ``ValueError`` for a number that is not finite (NaN, infinity), a rate outside
    0..1, or a latency, rate limit or retry-after outside its range (``_LIMITS``)."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    throttle_rate: float = 0.0
    rate_limit: float = 0.0  # requests per second; 0 = unlimited
    drop_before_commit_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    retry_after: int = 1
    seed: int | None = None
    reset_rate: float = 0.0
    rate_limit_headers: bool = True

    def __post_init__(self) -> None:
        """Check every number (see the class docstring): the one check of the options of
        ``sandbox serve`` and of the control's settings."""
        for name in _NUMBERS:
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{_option(name)} must be a finite number, not {value}")
        for name in _RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{_option(name)} must be between 0 and 1, not {value}")
        for name, most in _LIMITS.items():
            value = getattr(self, name)
            if not 0 <= value <= most:
                raise ValueError(f"{_option(name)} must be between 0 and {most:,}, not {value}")

    @classmethod
    def from_dict(cls, data: Any) -> FaultConfig:
        """A configuration from plain data (the body of ``POST /_sandbox/faults``): every
        field optional, none unknown, numbers as numbers. Raises ``ValueError`` saying what is
        wrong."""
        if not isinstance(data, dict):
            raise ValueError("the faults must be a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        for name, value in data.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if name == "seed":
                if value is not None and not (isinstance(value, int) and number):
                    raise ValueError("seed must be an integer or null")
            elif name == "rate_limit_headers":
                if not isinstance(value, bool):
                    raise ValueError("rate_limit_headers must be true or false")
            elif name == "retry_after":
                if not (isinstance(value, int) and number):
                    raise ValueError("retry_after must be an integer number of seconds")
            elif not number:
                raise ValueError(f"{name} must be a number")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Every field by name, as ``from_dict`` takes it back."""
        return asdict(self)

    @property
    def active(self) -> bool:
        """Whether any fault (latency and rate limit included) can be injected."""
        return any(
            (
                self.latency_ms,
                self.fail_rate,
                self.throttle_rate,
                self.rate_limit,
                self.drop_before_commit_rate,
                self.drop_after_commit_rate,
                self.reset_rate,
            )
        )


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject."""

    def __init__(self, config: FaultConfig) -> None:
        """Inject ``config``'s faults, seeded with its seed; no fault counted yet."""
        self.config = config
        self._random = random.Random(config.seed)
        self._lock = threading.Lock()
        self._tokens = max(config.rate_limit, 1.0)
        self._last = time.monotonic()
        self.counts: dict[Fault, int] = dict.fromkeys(Fault, 0)

    def reconfigure(self, config: FaultConfig) -> None:
        """Inject ``config``'s faults from now on (reseeded with its seed); counts go on."""
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)
            self._tokens = max(config.rate_limit, 1.0)
            self._last = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        """The configuration and how many of each fault were injected so far (``none``: the
        requests that got no fault)."""
        with self._lock:
            return {
                "faults": self.config.to_dict(),
                "counts": {fault.value: n for fault, n in self.counts.items()},
            }

    def delay(self) -> None:
        """Sleep for the configured latency (if any)."""
        latency = self.config.latency_ms
        if latency:
            time.sleep(latency / 1000.0)

    def _refill(self) -> float:
        """The bucket topped up to now (the caller holds the lock): its rate. It holds a
        second's worth of requests, and at least one."""
        now = time.monotonic()
        rate = self.config.rate_limit
        self._tokens = min(max(rate, 1.0), self._tokens + (now - self._last) * rate)
        self._last = now
        return rate

    def rate_limited(self) -> int | None:
        """Seconds to wait when the token bucket is empty, else None (and a token is spent)."""
        if not self.config.rate_limit:
            return None
        with self._lock:
            rate = self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            self.counts[Fault.THROTTLE] += 1
            return max(1, int((1.0 - self._tokens) / rate + 0.999))

    def rate_headers(self) -> dict[str, str]:
        """The token bucket as the IETF draft httpapi-ratelimit-headers states a quota: the
        policy (``q`` requests per ``w`` seconds: the rate, rounded down, never more than the
        bucket gives) and the state now (``r`` requests left, ``t`` seconds until the bucket
        is full again). Nothing without a rate limit, or with ``rate_limit_headers`` off."""
        if not (self.config.rate_limit and self.config.rate_limit_headers):
            return {}
        with self._lock:
            rate = self._refill()
            full = max(rate, 1.0)
            left, tokens = math.floor(self._tokens), self._tokens
        quota, window = (math.floor(rate), 1) if rate >= 1 else (1, math.ceil(1 / rate))
        refill = math.ceil((full - tokens) / rate)
        return {
            "RateLimit-Policy": f'"sandbox";q={quota};w={window}',
            "RateLimit": f'"sandbox";r={left};t={refill}',
        }

    def choose(self, *, write: bool) -> Fault:
        """The fault for one request; drops after commit only apply to writes."""
        c = self.config
        with self._lock:
            roll = self._random.random()
            fault = Fault.NONE
            for rate, kind in (
                (c.throttle_rate, Fault.THROTTLE),
                (c.fail_rate, Fault.UNAVAILABLE),
                (c.drop_before_commit_rate, Fault.DROP_BEFORE),
                (c.reset_rate, Fault.RESET),
                (c.drop_after_commit_rate if write else 0.0, Fault.DROP_AFTER),
            ):
                if roll < rate:
                    fault = kind
                    break
                roll -= rate
            self.counts[fault] += 1
            return fault

    def status_5xx(self) -> int:
        """The status of an injected unavailability: 502, 503 or 504, from the seeded random."""
        with self._lock:
            return self._random.choice((502, 503, 504))
