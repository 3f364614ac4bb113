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

from bench import generate

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
    command: list[str], store: Path, flags: tuple[str, ...], concurrency: int
) -> dict[str, float]:
    """Seconds of ``reconciler COMMAND --backend http`` (a fresh process) against a fresh
    server of ``store`` with ``flags``, and the server's counts."""
    with served(store, *flags) as (url, counts):
        target = ["--backend", "http", "--api-url", url, "--concurrency", str(concurrency)]
        start = time.perf_counter()
        subprocess.run([*reconciler_cmd(), *command, *target], check=True, capture_output=True)
        took = time.perf_counter() - start
        return {"s": took, **counts()}


def _medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    """The median of each figure of ``runs`` (and the fastest time)."""
    return {
        "runs": len(runs),
        "median_s": statistics.median(r["s"] for r in runs),
        "min_s": min(r["s"] for r in runs),
        "requests": statistics.median(r["requests"] for r in runs),
        "429": statistics.median(r["429"] for r in runs),
    }


def _apply_runs(
    work: Path, creates: int, flags: tuple[str, ...], concurrency: int, runs: int
) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        config = _creates_config(work / "http-apply", creates)
        store = config.parent / "workspace.db"
        command = ["apply", str(config), "--auto-approve"]
        results.append(timed(command, store, flags, concurrency))
    return _medians(results)


def bench_apply(work: Path, quick: bool) -> dict[str, object]:
    creates, latency_ms, runs = (200, 25.0, 1) if quick else (2000, 25.0, 3)
    out: dict[str, object] = {}
    for concurrency in (8, 16, 32):
        row = _apply_runs(work, creates, ("--latency-ms", str(latency_ms)), concurrency, runs)
        ideal = creates * latency_ms / 1000 / concurrency
        out[str(concurrency)] = row | {
            "creates": creates,
            "latency_ms": latency_ms,
            "ideal_s": ideal,
            "ratio_to_ideal": row["median_s"] / ideal,
        }
    return out


def bench_rate(work: Path, quick: bool) -> dict[str, object]:
    cases = [(200, 50.0), (100, 20.0)] if quick else [(2000, 50.0), (500, 20.0)]
    runs = 1 if quick else 3
    out: dict[str, object] = {}
    for creates, rate in cases:
        for headers in (True, False):
            flags = ("--rate-limit", str(rate))
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
        results = [
            timed(["plan", str(config), "--force"], store, flags, concurrency) for _ in range(runs)
        ]
        row = _medians(results)
        ideal = row["requests"] * latency_ms / 1000 / concurrency
        out[str(channels * 50)] = row | {
            "links": channels * 50,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
            "ideal_s": ideal,
            "ratio_to_ideal": row["median_s"] / ideal,
        }
    return out
