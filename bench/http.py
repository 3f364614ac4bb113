"""The benchmarks over ``--backend http``, each against ``sandbox serve`` on loopback and its
ideal, measured in the same run. The server counts the requests it answered and the 429s
among them (``GET /_sandbox/faults`` of ``--control``: every request that reached the faults,
by what it got), so a figure's requests are the server's, not the client's.

1. apply: 2,000 creates with 25 ms on every request, at concurrency 8, 16 and 32, against the
   ideal N x L / C.
2. rate: creates through a token bucket of R requests a second (2,000 at 50/s, 500 at 20/s),
   with the RateLimit headers and without them, against the ideal N / R; the share of
   requests answered 429.
3. plan: ``reconciler plan`` of 10,000 and 50,000 links (50 a channel) with 25 ms on every
   request at concurrency 8, against the ideal requests x L / C.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import ROOT, generate

CONTROL = "/_sandbox/faults"


def reconciler_cmd() -> list[str]:
    exe = shutil.which("reconciler")
    return [exe] if exe else [sys.executable, "-m", "reconciler"]


@contextlib.contextmanager
def launched(
    store: Path,
    *flags: str,
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """A ``sandbox serve`` of ``store`` with ``flags``, run by ``command`` (this environment's
    ``reconciler`` by default) in ``env``: its URL and process id; stopped on leaving."""
    server = subprocess.Popen(
        [*(command or reconciler_cmd()), "sandbox", "serve", "--port", "0", "--store",
         str(store), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        found = re.search(r"http://\S+", server.stdout.readline())
        if found is None:
            raise SystemExit("sandbox serve printed no URL")
        yield found.group(), server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextlib.contextmanager
def served(store: Path, *flags: str) -> Iterator[tuple[str, Callable[[], dict[str, int]]]]:
    """A ``sandbox serve --control`` of ``store`` with ``flags``: its URL, and a function
    giving the server's counts so far (``requests``, ``429``)."""
    with launched(store, "--control", *flags) as (url, _):

        def counts() -> dict[str, int]:
            data = httpx.get(url + CONTROL, timeout=10).json()["counts"]
            return {"requests": sum(data.values()), "429": data["throttle"]}

        yield url, counts


def _creates_config(data: Path, creates: int) -> Path:
    """A store with one channel and a config creating ``creates`` links in it."""
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    subprocess.run(
        [*reconciler_cmd(), "sandbox", "connect", "acme", "--store", str(data / "workspace.db")],
        check=True,
        capture_output=True,
    )
    lines = ["version: 1", "channels:", "  - account: acme", "    display_name: acme", "    links:"]
    for i in range(creates):
        lines += [f"      - title: Link {i:05}", f"        ref: r{i}", f"        message: M {i}"]
    config = data / "workspace.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def timed(
    command: Callable[[str], list[str]], store: Path, flags: tuple[str, ...]
) -> dict[str, float]:
    """Seconds of ``command(url)`` (a fresh process) against a fresh server of ``store`` with
    ``flags``, and the server's counts."""
    with served(store, *flags) as (url, counts):
        start = time.perf_counter()
        ran = subprocess.run(command(url), capture_output=True, text=True, cwd=ROOT)
        took = time.perf_counter() - start
        if ran.returncode != 0:
            raise SystemExit(f"{' '.join(command(url))} failed:\n{ran.stderr}")
        return {"s": took, **counts()}


def reconciler_over(*command: str, concurrency: int) -> Callable[[str], list[str]]:
    """``reconciler COMMAND`` over ``--backend http`` at ``concurrency``, for a server's URL."""
    target = ("--backend", "http", "--concurrency", str(concurrency), "--api-url")
    return lambda url: [*reconciler_cmd(), *command, *target, url]


def floor_of(kind: str, concurrency: int, creates: int = 0) -> Callable[[str], list[str]]:
    """The bare client of bench/http_floor.py doing ``kind``'s requests, for a server's URL."""
    args = (str(concurrency), str(creates))
    return lambda url: [sys.executable, "-m", "bench.http_floor", kind, url, *args]


def _medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The median of each figure of ``runs`` (and the fastest time)."""
    return {
        "runs": len(runs),
        "median_s": statistics.median(r["s"] for r in runs),
        "min_s": min(r["s"] for r in runs),
        "requests": statistics.median(r["requests"] for r in runs),
        "429": statistics.median(r["429"] for r in runs),
    }


def _with_floor(row: dict[str, Any], floors: list[dict[str, float]]) -> dict[str, Any]:
    """``row`` with the floor's median time (and requests), and reconciler's ratio to it."""
    floor = _medians(floors)
    return row | {
        "floor_s": floor["median_s"],
        "floor_requests": floor["requests"],
        "ratio_to_floor": row["median_s"] / floor["median_s"],
    }


def _apply_runs(
    work: Path,
    creates: int,
    flags: tuple[str, ...],
    concurrency: int,
    runs: int,
    *,
    floor: bool = False,
) -> dict[str, Any]:
    """``runs`` applies of ``creates`` links into a fresh store each; with ``floor``, each
    followed by the bare client's same creates into another fresh store."""
    results, floors = [], []
    for _ in range(runs):
        config = _creates_config(work / "http-apply", creates)
        command = reconciler_over("apply", str(config), "--auto-approve", concurrency=concurrency)
        results.append(timed(command, config.parent / "workspace.db", flags))
        if floor:
            store = _creates_config(work / "http-apply", creates).parent / "workspace.db"
            floors.append(timed(floor_of("apply", concurrency, creates), store, flags))
    row = _medians(results)
    return _with_floor(row, floors) if floor else row


def bench_apply(work: Path, quick: bool) -> dict[str, object]:
    creates, latency_ms, runs = (200, 25.0, 1) if quick else (2000, 25.0, 3)
    out: dict[str, object] = {}
    for concurrency in (8, 16, 32):
        flags = ("--latency-ms", str(latency_ms))
        row = _apply_runs(work, creates, flags, concurrency, runs, floor=True)
        ideal = creates * latency_ms / 1000 / concurrency
        out[str(concurrency)] = row | {
            "creates": creates,
            "latency_ms": latency_ms,
            "ideal_s": ideal,
            "ratio_to_ideal": row["median_s"] / ideal,
            "floor_to_ideal": row["floor_s"] / ideal,
        }
    return out


def bench_rate(work: Path, quick: bool) -> dict[str, object]:
    cases = [(200, 50.0), (100, 20.0)] if quick else [(2000, 50.0), (500, 20.0)]
    runs = 1 if quick else 3
    out: dict[str, object] = {}
    for creates, rate in cases:
        for headers in (True, False):
            flags: tuple[str, ...] = ("--rate-limit", str(rate))
            flags += () if headers else ("--no-rate-limit-headers",)
            row = _apply_runs(work, creates, flags, 8, runs)
            ideal = creates / rate
            name = f"{creates} at {rate:g}/s, {'with' if headers else 'without'} headers"
            out[name] = row | {
                "creates": creates,
                "rate_limit": rate,
                "headers": headers,
                "ideal_s": ideal,
                "ratio_to_ideal": row["median_s"] / ideal,
                "share_429": row["429"] / row["requests"],
            }
    return out


def bench_plan(work: Path, quick: bool) -> dict[str, object]:
    sizes = [200] if quick else [200, 1000]
    latency_ms, concurrency, runs = 25.0, 8, 3 if quick else 5
    out: dict[str, object] = {}
    for channels in sizes:
        data = work / f"http-plan-{channels}x50"
        config = generate.generate(data, channels, 50, 0.10)
        store = data / "workspace.db"
        flags = ("--latency-ms", str(latency_ms))
        command = reconciler_over("plan", str(config), "--force", concurrency=concurrency)
        results, floors = [], []
        for _ in range(runs):  # alternated: each run and its floor in the same minutes
            results.append(timed(command, store, flags))
            floors.append(timed(floor_of("plan", concurrency), store, flags))
        row = _with_floor(_medians(results), floors)
        ideal = row["requests"] * latency_ms / 1000 / concurrency
        out[str(channels * 50)] = row | {
            "links": channels * 50,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
            "ideal_s": ideal,
            "ratio_to_ideal": row["median_s"] / ideal,
            "floor_to_ideal": row["floor_s"] / ideal,
        }
    return out
