"""The floor of the benchmarks over http: what a bare client does with the same requests, as a
fresh process, on the same machine against the same ``sandbox serve``.

Run as a script (``python bench/http_floor.py plan|apply URL CONCURRENCY [CREATES]``), it
imports only the standard library's ``http.client``, ``json`` and ``threading``: a fresh
interpreter, keep-alive connections, each answer read whole and decoded as JSON, nothing else
(no config, no plan, no retries, no output). The requests and their order are reconciler's:

- ``plan``: ``GET /v1/workspace`` beside the channel pages (``limit=100``, following
  ``next_cursor``); each channel's link pages asked for as soon as it is listed, by
  CONCURRENCY threads with a connection each.
- ``apply``: the same reads, then CREATES ``POST``s of a link (with an ``Idempotency-Key``)
  into the first channel, by CONCURRENCY threads.

So a benchmark's ratio to this floor is what reconciler costs beyond the machine, the
sandbox and the interpreter, where its ratio to the ideal (requests x latency / concurrency)
counts only the waits.
"""

from __future__ import annotations

import http.client
import json
import queue
import sys
import threading
from urllib.parse import urlsplit

HEADERS = {"Accept": "application/json", "User-Agent": "reconciler-floor"}


#: The first failure of any thread: the run ends with it (a thread's exception alone would not).
FAILED: list[str] = []


def fetch(
    conn: http.client.HTTPConnection, method: str, target: str, body: object = None, key: str = ""
) -> object:
    """The JSON of one answer over ``conn`` (``body`` posted with ``key`` as its
    Idempotency-Key); an error answer is recorded in ``FAILED`` and ends the thread."""
    headers = dict(HEADERS)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers |= {"Content-Type": "application/json", "Idempotency-Key": key}
    conn.request(method, target, body=data, headers=headers)
    answer = conn.getresponse()
    raw = answer.read()
    if answer.status >= 300:
        FAILED.append(f"{method} {target}: HTTP {answer.status} {raw[:200]!r}")
        raise SystemExit(FAILED[-1])
    return json.loads(raw)


def pages(conn: http.client.HTTPConnection, path: str) -> list[object]:
    """Every item of a paginated list."""
    items: list[object] = []
    cursor = None
    while True:
        target = f"{path}?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = fetch(conn, "GET", target)
        assert isinstance(page, dict)
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def read(host: str, port: int, concurrency: int) -> list[str]:
    """The workspace read as reconciler reads it; the channel ids, in listed order."""
    channels: queue.Queue[str | None] = queue.Queue()
    listed: list[str] = []

    def workspace() -> None:
        fetch(http.client.HTTPConnection(host, port), "GET", "/v1/workspace")

    def links() -> None:
        conn = http.client.HTTPConnection(host, port)
        while (channel := channels.get()) is not None:
            pages(conn, f"/v1/tiktok/channels/{channel}/message-links")

    threads = [threading.Thread(target=workspace)]
    threads += [threading.Thread(target=links) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    conn = http.client.HTTPConnection(host, port)
    cursor = None
    while True:  # the channel pages, each channel handed on as soon as it is listed
        target = "/v1/tiktok/channels?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = fetch(conn, "GET", target)
        assert isinstance(page, dict)
        for channel in page["data"]:
            listed.append(str(channel["id"]))
            channels.put(listed[-1])
        cursor = page["next_cursor"]
        if not cursor:
            break
    for _ in range(concurrency):
        channels.put(None)
    for thread in threads:
        thread.join()
    return listed


def create(host: str, port: int, channel: str, concurrency: int, creates: int) -> None:
    """``creates`` links posted into ``channel`` by ``concurrency`` threads."""
    numbers = iter(range(creates))
    lock = threading.Lock()

    def work() -> None:
        conn = http.client.HTTPConnection(host, port)
        while True:
            with lock:
                n = next(numbers, None)
            if n is None:
                return
            body = {"title": f"Link {n:05}", "ref": f"r{n}", "message": f"M {n}"}
            target = f"/v1/tiktok/channels/{channel}/message-links"
            fetch(conn, "POST", target, body, key=f"floor-{n}")

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main(argv: list[str]) -> None:
    threading.excepthook = lambda failure: FAILED.append(repr(failure.exc_value))
    kind, url, concurrency = argv[0], urlsplit(argv[1]), int(argv[2])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    channels = read(host, port, concurrency)
    if kind == "apply":
        create(host, port, channels[0], concurrency, int(argv[3]))
    if FAILED:
        raise SystemExit(FAILED[0])


if __name__ == "__main__":
    main(sys.argv[1:])
