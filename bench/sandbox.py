"""The sandbox server's own cost per request, by kind: what ``sandbox serve`` adds to every
request of the benchmarks over http (bench/http.py), apart from the latency it injects.

Each kind is asked of a fresh ``sandbox serve`` by ``http.client`` keep-alive connections
(one per client thread), with the headers the http backend sends:

- ``links``: ``GET /v1/tiktok/channels/{id}/message-links?limit=100`` of a store of 200
  channels x 50 links (one page of 50 links, ~19 KB), channel after channel;
- ``channels``: ``GET /v1/tiktok/channels?limit=100``, following ``next_cursor`` (a signed
  cursor checked on every other request) and starting again;
- ``workspace``: ``GET /v1/workspace``;
- ``create``: ``POST /v1/tiktok/channels/1/message-links`` with an ``Idempotency-Key`` (a
  write transaction, the idempotency record and a history entry) into a fresh store.

For each: wall milliseconds a request as the client sees them, and the server process's CPU
milliseconds a request (``/proc/PID/stat``, Linux), with no latency and with 25 ms, by one
client and by eight at once.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import generate
from bench.http import launched, reconciler_cmd

HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": "reconciler",
}
KINDS = ("links", "channels", "workspace", "create")


@contextmanager
def serving(
    store: Path, latency_ms: float, command: Sequence[str], env: dict[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """A ``sandbox serve`` of ``store`` with ``latency_ms``: its port and process id."""
    with launched(store, "--latency-ms", str(latency_ms), command=command, env=env) as (url, pid):
        yield int(url.rsplit(":", 1)[1]), pid


def cpu_seconds(pid: int) -> float:
    """The CPU seconds the live threads of process ``pid`` have run (Linux's
    ``/proc/PID/task/*/schedstat``, to the nanosecond: ``/proc/PID/stat`` counts 10 ms ticks)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile
    return total / 1e9


def _requests(kind: str, client: int) -> Iterator[tuple[str, str, bytes | None]]:
    """The endless requests of one client of ``kind``: (method, target, body); a channel page
    is asked for without its cursor (``_client`` adds the one it was given)."""
    n = 0
    while True:
        n += 1
        if kind == "links":
            channel = (client * 25 + n) % 200 + 1
            yield "GET", f"/v1/tiktok/channels/{channel}/message-links?limit=100", None
        elif kind == "channels":
            yield "GET", "/v1/tiktok/channels?limit=100", None
        elif kind == "workspace":
            yield "GET", "/v1/workspace", None
        else:
            body = {"title": f"Link {client}-{n}", "ref": f"r{client}_{n}", "message": f"M {n}"}
            yield "POST", "/v1/tiktok/channels/1/message-links", json.dumps(body).encode()


def _client(
    port: int, kind: str, client: int, count: int, walls: list[float], conns: list[Any]
) -> None:
    """``count`` requests of ``kind`` on one keep-alive connection (left open, in ``conns``:
    its server thread lives until the CPU is read); their wall times."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conns.append(conn)
    requests = _requests(kind, client)
    pending: list[str] = []
    for n in range(count):
        method, target, body = next(requests)
        if kind == "channels" and pending:
            target += f"&cursor={pending.pop()}"
        headers = dict(HEADERS)
        if body is not None:
            headers |= {"Content-Type": "application/json", "Idempotency-Key": f"k{client}-{n}"}
        start = time.perf_counter()
        conn.request(method, target, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        walls.append(time.perf_counter() - start)
        if answer.status >= 300:
            raise SystemExit(f"{method} {target}: {answer.status} {data[:200]!r}")
        if kind == "channels":
            following = json.loads(data)["next_cursor"]
            pending = [following] if following else []


def measure(port: int, pid: int, kind: str, *, clients: int, count: int) -> dict[str, float]:
    """``count`` requests of ``kind`` (after a warm-up) by ``clients`` at once: wall and
    server CPU milliseconds a request."""
    conns: list[Any] = []
    _client(port, kind, 99, 20, [], conns)  # warm: imports, statements prepared, pages cached
    conns.pop().close()
    time.sleep(0.1)  # its server thread ends
    walls: list[float] = []
    threads = [
        threading.Thread(target=_client, args=(port, kind, c, count // clients, walls, conns))
        for c in range(clients)
    ]
    cpu, start = cpu_seconds(pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu
    for conn in conns:
        conn.close()
    done = len(walls)
    return {
        "requests": done,
        "wall_ms": 1000 * sum(walls) / done,
        "server_cpu_ms": 1000 * cpu / done,
        "throughput_rps": done / took,
    }


def _stores(work: Path) -> tuple[Path, Path]:
    """The store of 200 channels x 50 links (made once), and an empty one with a channel."""
    links = work / "sandbox-200x50" / "workspace.db"
    if not links.exists():
        generate.generate(links.parent, 200, 50, 0.10)
    return links, work / "sandbox-create" / "workspace.db"


def run(
    work: Path,
    quick: bool,
    *,
    command: Sequence[str] | None = None,
    env: dict[str, str] | None = None,
    on_row: Callable[[str, dict[str, float]], None] | None = None,
    kinds: Sequence[str] = KINDS,
    latencies: Sequence[float] = (0.0, 25.0),
    clients: Sequence[int] = (1, 8),
) -> dict[str, object]:
    """Every kind at no latency and 25 ms, by one client and eight (``command`` is the
    ``reconciler`` to serve with)."""
    command = list(command or reconciler_cmd())
    links, creates = _stores(work)
    count = 80 if quick else 400
    out: dict[str, object] = {}
    for latency in latencies:
        for together in clients:
            for kind in kinds:
                if kind == "create":
                    shutil.rmtree(creates.parent, ignore_errors=True)
                    creates.parent.mkdir(parents=True)
                    subprocess.run(
                        [*command, "sandbox", "connect", "acme", "--store", str(creates)],
                        check=True, capture_output=True, env=env,
                    )  # fmt: skip
                store = creates if kind == "create" else links
                n = count if latency == 0 or together > 1 else count // 4
                with serving(store, latency, command, env) as (port, pid):
                    row = measure(port, pid, kind, clients=together, count=n)
                name = f"{kind}, {latency:g} ms, {together} client{'s' if together > 1 else ''}"
                out[name] = row | {"latency_ms": latency, "clients": together}
                if on_row is not None:
                    on_row(name, row)
    return out


def bench_sandbox(work: Path, quick: bool) -> dict[str, object]:
    """The rows of ``python -m bench.run sandbox``."""
    return run(work, quick, on_row=_print_row)


def _print_row(name: str, row: dict[str, Any]) -> None:
    print(
        "   ",
        f"{name:32} {row['wall_ms']:7.2f} ms wall  {row['server_cpu_ms']:6.2f} ms server CPU"
        f"  {row['throughput_rps']:7.1f} req/s",
        flush=True,
    )


if __name__ == "__main__":
    # python -m bench.sandbox [--kinds links,create] [--latencies 0,25] [--clients 1,8]
    # [--pythonpath DIR]: some rows, served by the reconciler package in DIR (a checkout of
    # another commit, to compare in the same minutes).
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "reconciler-bench"
    )
    parser.add_argument("--pythonpath", help="serve the reconciler package found here instead")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--latencies", default="0,25")
    parser.add_argument("--clients", default="1,8")
    args = parser.parse_args()
    run_env = None
    cmd = None
    if args.pythonpath:
        run_env = dict(os.environ, PYTHONPATH=args.pythonpath)
        cmd = [sys.executable, "-m", "reconciler"]
    run(
        args.work,
        args.quick,
        command=cmd,
        env=run_env,
        on_row=_print_row,
        kinds=args.kinds.split(","),
        latencies=[float(x) for x in args.latencies.split(",")],
        clients=[int(x) for x in args.clients.split(",")],
    )
