"""The http backend: retries, Retry-After, idempotent creates and secrets, against the
project's own sandbox server in a real process (faults included). ``httpx.MockTransport``
only stands in for answers the sandbox never gives (an HTTP-date Retry-After, HTML, a page
without next_cursor, a cursor that loops)."""

from __future__ import annotations

import email.utils
import itertools
import json
import re
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
import stamina.instrumentation
import yaml
from click.testing import CliRunner, Result

from reconciler.backends import open_backend
from reconciler.backends.http import HttpBackend, RetryPolicy, parse_retry_after
from reconciler.backends.http.client import MAX_EMPTY_PAGES
from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.errors import BackendError
from reconciler.model import fold, link_url
from tests.helpers import SandboxFactory, assert_valid_plan_json

SECRET = "sk-live-DO-NOT-PRINT-8c1f2e"
#: Retries that take milliseconds, not seconds.
FAST = RetryPolicy(
    attempts=3, deadline=10.0, wait_initial=0.001, wait_max=0.01, wait_jitter=0.0,
    retry_after_max=0.05,
)  # fmt: skip
CHANNELS = "/v1/tiktok/channels"


@pytest.fixture
def stamina_testing() -> Iterator[Callable[[int], None]]:
    """Switch stamina to its test mode (no waits, a fixed number of attempts) for code that
    can't be handed a RetryPolicy, such as the CLI; switched off after the test."""

    def switch(attempts: int) -> None:
        stamina.set_testing(True, attempts=attempts)

    yield switch
    stamina.set_testing(False)


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """The wait before each retry, as stamina scheduled it."""
    seen: list[float] = []
    stamina.instrumentation.set_on_retry_hooks([lambda details: seen.append(details.wait_for)])
    yield seen
    stamina.instrumentation.set_on_retry_hooks(None)


def mock_backend(
    handler: Callable[[httpx.Request], httpx.Response], *, key: str | None = SECRET, **kw: Any
) -> HttpBackend:
    return HttpBackend(
        "https://api.test", key, transport=httpx.MockTransport(handler), policy=FAST, **kw
    )


#: A JSON array nested 100,000 deep.
DEEP = b"[" * 100_000 + b"]" * 100_000


def page(items: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    return {"data": items, "next_cursor": cursor}


def connect(store: Path, *accounts: str) -> None:
    backend = LocalBackend(store)
    for account in accounts:
        backend.connect_channel(account, account)
    backend.close()


def stored_links(store: Path) -> list[tuple[str, Any]]:
    """(account, link) for every link in the store, by account then creation."""
    backend = LocalBackend(store)
    state = backend.read()
    backend.close()
    return [(c.account, lk) for c in state.channels for lk in c.links]


# --- Retry-After -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 120 ", 120.0),
        (email.utils.formatdate(1_000_030, usegmt=True), 30.0),
        ("Mon, 12 Jan 1970 13:47:10 GMT", 30.0),  # the same instant, spelled out
        ("Monday, 12-Jan-70 13:47:10 GMT", 30.0),  # RFC 850, obsolete but allowed
        ("Mon Jan 12 13:47:10 1970", 30.0),  # asctime, likewise
        (email.utils.formatdate(999_000, usegmt=True), 0.0),  # in the past: no wait
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("Sun, 99 Foo 1970 99:99:99 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=lambda: 1_000_000.0) == expected


@pytest.mark.skipif(not hasattr(time, "tzset"), reason="needs time.tzset")
def test_an_http_date_is_gmt_whatever_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        for value in ("Mon Jan 12 13:47:10 1970", "Mon, 12 Jan 1970 13:47:10 -0000"):
            assert parse_retry_after(value, now=lambda: 1_000_000.0) == 30.0
    finally:
        monkeypatch.undo()
        time.tzset()


def _throttled_then_ok(retry_after: str) -> tuple[list[int], Callable[[httpx.Request], Any]]:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": retry_after}, json={})
        return httpx.Response(200, json=page([]))

    return calls, handler


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        pytest.param("0", 0.0, id="0s"),
        pytest.param("2", FAST.retry_after_max, id="2s-capped"),
        pytest.param(
            email.utils.formatdate(time.time() + 3600, usegmt=True),
            FAST.retry_after_max,
            id="http-date-in-an-hour-capped",
        ),
    ],
)
def test_a_429_is_retried_after_the_retry_after_it_names(
    waits: list[float], retry_after: str, wait: float
) -> None:
    calls, handler = _throttled_then_ok(retry_after)
    backend = mock_backend(handler)
    assert backend.read().channels == ()
    assert len(calls) == 2
    assert waits == [pytest.approx(wait, abs=0.01)]


def test_without_retry_after_the_backoff_is_exponential(waits: list[float]) -> None:
    answers = iter([503, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(status, json=page([]) if status == 200 else {})

    policy = RetryPolicy(attempts=3, wait_initial=0.01, wait_max=1.0, wait_jitter=0.0)
    backend = HttpBackend(
        "https://api.test", None, transport=httpx.MockTransport(handler), policy=policy
    )
    backend.read()
    assert waits == [pytest.approx(0.01), pytest.approx(0.02)]


def test_a_retry_after_past_the_deadline_gives_up_at_once() -> None:
    calls, handler = _throttled_then_ok("30")
    policy = RetryPolicy(attempts=8, deadline=5.0, retry_after_max=30.0)
    backend = HttpBackend(
        "https://api.test", None, transport=httpx.MockTransport(handler), policy=policy
    )
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        backend.read()
    assert time.monotonic() - started < 2.0
    assert len(calls) == 1
    assert str(caught.value) == "list channels: gave up after 1 attempt: HTTP 429: HTTP 429"


def test_a_409_in_flight_is_waited_out_and_other_409s_are_not() -> None:
    created = {
        "id": "7", "channel_id": "1", "title": "T", "ref": None, "message": "m",
        "url": link_url("a", None, "m"), "created_at": "x", "updated_at": "x", "version": 1,
    }  # fmt: skip
    answers = [
        httpx.Response(
            409,
            json={"type": "https://reconciler.dev/problems/idempotency-key-in-flight"},
            headers={"Retry-After": "1"},
        ),
        httpx.Response(201, json=created),
    ]
    backend = mock_backend(lambda request: answers.pop(0))
    assert backend.create_link("1", title="T", ref=None, message="m", key="k").id == "7"
    conflict = httpx.Response(409, json={"type": "https://example/other", "detail": "no"})
    other = mock_backend(lambda request: conflict)
    with pytest.raises(BackendError, match=r"^create link 'T': HTTP 409: no$"):
        other.create_link("1", title="T", ref=None, message="m", key="k")


# --- answers the sandbox never gives --------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (
            httpx.Response(200, text="<html>maintenance</html>"),
            "list channels: the server answered with something that is not JSON",
        ),
        (
            httpx.Response(500, text="<html>oops</html>"),
            "list channels: HTTP 500: Internal Server Error",
        ),
        (
            httpx.Response(302, headers={"Location": "/login"}),
            "list channels: HTTP 302: Found",
        ),
        (
            httpx.Response(200, json={"data": []}),
            "list channels: the server's page has no next_cursor",
        ),
        (httpx.Response(200, json=[1, 2]), "list channels: the server's page has no data list"),
        (httpx.Response(200, json={"data": "ab", "next_cursor": None}), "has no data list"),
        (
            httpx.Response(200, json=page([], cursor="same")),
            "list channels: the server's next_cursor goes round in circles",
        ),
        (httpx.Response(200, json=page([], cursor=5)), "next_cursor is not a string"),
        (
            httpx.Response(200, json=page([{"id": "1", "account": "a"}])),
            "read workspace: unexpected data from the server (",
        ),
        (
            httpx.Response(400, json={"detail": "bad \x1b[31mred\x1b[0m", "errors": "x"}),
            "list channels: HTTP 400: bad \\u001b[31mred\\u001b[0m",
        ),
        # JSON nested deeper than Python's parser goes (a RecursionError, not a ValueError)
        (
            httpx.Response(200, content=DEEP),
            "list channels: the server answered with something that is not JSON",
        ),
        (httpx.Response(400, content=DEEP), "list channels: HTTP 400: Bad Request"),
        (httpx.Response(409, content=DEEP), "list channels: HTTP 409: Conflict"),
    ],
)
def test_odd_answers_are_backend_errors(response: httpx.Response, message: str) -> None:
    backend = mock_backend(lambda request: response)
    with pytest.raises(BackendError) as caught:
        backend.read()
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


def test_empty_pages_that_never_end_are_an_error_not_a_loop() -> None:
    calls = itertools.count()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page([], cursor=f"c{next(calls)}"))

    backend = mock_backend(handler)
    with pytest.raises(BackendError, match="list channels: the server's pages go on empty"):
        backend.read()
    assert next(calls) == MAX_EMPTY_PAGES + 1  # as many empty pages as allowed, and one more


def test_a_workspace_listing_one_account_twice_is_an_error() -> None:
    # A plan would pick one of the two and create again the links the other holds.
    def raw(ident: str, account: str) -> dict[str, Any]:
        return {"id": ident, "account": account, "display_name": "A", "status": "connected",
                "version": 1}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/tiktok/channels":
            return httpx.Response(200, json=page([raw("1", "acmepets"), raw("2", "AcmePets")]))
        return httpx.Response(200, json=page([]))

    with pytest.raises(BackendError, match=r"the server lists channel 'AcmePets' twice"):
        mock_backend(handler).read()


def test_a_write_answered_with_the_wrong_shape_is_a_backend_error() -> None:
    backend = mock_backend(lambda request: httpx.Response(201, json={"id": "1"}))
    with pytest.raises(BackendError, match=r"^create link 'T': unexpected data from the server$"):
        backend.create_link("1", title="T", ref=None, message="m", key="k")
    renamed = mock_backend(lambda request: httpx.Response(200, json=[]))
    with pytest.raises(BackendError, match=r"^rename channel 1: unexpected data"):
        renamed.rename_channel("1", "New", version=1)


def test_ids_from_the_server_stay_one_path_segment() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(204)

    mock_backend(handler).remove_link("1", "../../channels/2?x=#", version=1)
    assert paths == ["/v1/tiktok/channels/1/message-links/..%2F..%2Fchannels%2F2%3Fx%3D%23"]


def test_a_bad_api_url_is_a_clear_error() -> None:
    for url in ("ftp://x", "127.0.0.1:8787", ""):
        with pytest.raises(BackendError, match="must be an http:// or https:// URL"):
            HttpBackend(url, None)
    with pytest.raises(BackendError, match="needs the API's URL"):
        open_backend("http", store="x", api_url=None)


# --- secrets ------------------------------------------------------------------------------


def test_the_key_is_sent_but_never_shown() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Sleekflow-Api-Key"))
        return httpx.Response(401, json={"detail": "missing or wrong X-Sleekflow-Api-Key"})

    backend = mock_backend(handler)
    assert SECRET not in repr(backend) and SECRET not in backend.description
    with pytest.raises(BackendError) as caught:
        backend.read()
    assert seen == [SECRET]
    assert str(caught.value) == "list channels: HTTP 401: missing or wrong X-Sleekflow-Api-Key"
    assert SECRET not in repr(caught.value)
    assert SECRET not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize(
    "key", [SECRET + "\n", " " + SECRET, SECRET + "\r\nX-Evil: 1", "clé-" + SECRET]
)
def test_a_key_that_cannot_be_a_header_is_refused_without_quoting_it(key: str) -> None:
    # httpx's own error would quote the header value: "Illegal header value b'...'".
    with pytest.raises(BackendError) as caught:
        HttpBackend("https://api.test", key)
    assert "SLEEKFLOW_API_KEY can't be sent as a header" in str(caught.value)
    assert SECRET not in str(caught.value) and "clé" not in str(caught.value)


@pytest.mark.parametrize(
    "error", [httpx.LocalProtocolError(f"Illegal header value b'{SECRET}'"), httpx.ProxyError("no")]
)
def test_a_request_that_cannot_be_sent_is_not_retried_nor_quoted(error: Exception) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise error

    with pytest.raises(BackendError) as caught:
        mock_backend(handler).read()
    assert calls == [1]
    name = type(error).__name__
    assert str(caught.value) == f"list channels: the request could not be sent ({name})"


def test_network_errors_are_retried() -> None:
    errors = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.ReadError("reset")]

    def handler(request: httpx.Request) -> httpx.Response:
        if errors:
            raise errors.pop(0)
        return httpx.Response(200, json=page([]))

    backend = mock_backend(handler)
    backend.api.policy = RetryPolicy(attempts=4, wait_initial=0.001, wait_max=0.001, wait_jitter=0)
    assert backend.read().channels == ()
    assert errors == []


def test_no_stamina_log_lines_reach_stderr(
    sandbox: SandboxFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    server = sandbox("--fail-rate", "1", "--retry-after", "0")
    backend = HttpBackend(server.url, None, policy=FAST)
    with pytest.raises(BackendError):
        backend.read()
    backend.close()
    assert "stamina" not in capfd.readouterr().err


# --- against the sandbox --------------------------------------------------------------------


def test_reads_every_page_in_creation_order(sandbox: SandboxFactory, tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    local = LocalBackend(store)
    channel = local.connect_channel("acmepets", "Acme")
    local.connect_channel("zoo", "zoo")
    for i in range(230):  # three pages of 100
        local.create_link(channel.id, title=f"L{i}", ref=None, message=f"m {i}", key=f"k{i}")
    expected = local.read()
    local.close()
    server = sandbox()
    backend = HttpBackend(server.url, None, policy=FAST, concurrency=2)
    actual = backend.read()
    backend.close()
    assert [c.account for c in actual.channels] == ["acmepets", "zoo"]
    strip = [(c.id, c.account, c.display_name, c.status) for c in actual.channels]
    assert strip == [(c.id, c.account, c.display_name, c.status) for c in expected.channels]
    got = [(lk.id, lk.title, lk.ref, lk.message, lk.url) for lk in actual.channels[0].links]
    assert got == [
        (lk.id, lk.title, lk.ref, lk.message, lk.url) for lk in expected.channels[0].links
    ]
    assert [lk.seq for lk in actual.channels[0].links] == list(range(1, 231))


def test_a_delete_whose_answer_was_lost_and_then_finds_404_is_done(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    local = LocalBackend(store)
    channel = local.connect_channel("acmepets", "acmepets")
    link = local.create_link(channel.id, title="Gone", ref=None, message="m", key="k1")
    kept = local.create_link(channel.id, title="Kept", ref=None, message="m", key="k2")
    local.close()
    retries: list[tuple[str, int, str]] = []
    server = sandbox("--drop-after-commit-rate", "1")
    backend = HttpBackend(
        server.url, None, policy=FAST, on_retry=lambda *args: retries.append(args)
    )
    backend.remove_link(channel.id, link.id, version=1)  # no error: the first attempt did it
    assert [lk.title for _, lk in stored_links(store)] == ["Kept"]
    assert retries == [("remove link " + link.id, 1, retries[0][2])]
    assert retries[0][2].startswith("RemoteProtocolError")
    # a DELETE that finds nothing on its first attempt is an error, not "done"
    with pytest.raises(BackendError, match=r"^remove link 999: HTTP 404: "):
        backend.remove_link(channel.id, "999", version=1)
    backend.close()
    assert [lk.id for _, lk in stored_links(store)] == [kept.id]


def test_a_create_whose_answers_are_all_lost_exists_once(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    connect(store, "acmepets")
    server = sandbox("--drop-after-commit-rate", "1")  # every answer to a write is lost
    backend = HttpBackend(server.url, None, policy=FAST)
    with pytest.raises(BackendError) as caught:
        backend.create_link("1", title="Once", ref="r", message="Hi", key="one-key")
    backend.close()
    assert str(caught.value).startswith("create link 'Once': gave up after 3 attempts: ")
    assert "RemoteProtocolError" in str(caught.value)
    ((account, link),) = stored_links(store)  # committed by the first attempt, only once
    assert (account, link.title, link.url) == ("acmepets", "Once", link_url("acmepets", "r", "Hi"))


@pytest.mark.parametrize(
    ("flag", "error"),
    [
        ("--fail-rate", r"HTTP 50[234]: try again later"),
        ("--drop-before-commit-rate", "RemoteProtocolError: the server closed the connection"),
        ("--throttle-rate", "HTTP 429: too many requests"),
    ],
)
def test_retries_run_out_with_a_message_naming_the_change(
    sandbox: SandboxFactory, tmp_path: Path, flag: str, error: str
) -> None:
    store = tmp_path / "ws.db"
    connect(store, "acmepets")
    retries: list[tuple[str, int, str]] = []
    server = sandbox(flag, "1", "--retry-after", "0")
    backend = HttpBackend(
        server.url, None, policy=FAST, on_retry=lambda *args: retries.append(args)
    )
    with pytest.raises(BackendError) as caught:
        backend.create_link("1", title="X", ref=None, message="m", key="kx")
    backend.close()
    message = str(caught.value)
    assert message.startswith("create link 'X': gave up after 3 attempts: ")
    assert re.search(error, message), message
    assert [(what, n) for what, n, _ in retries] == [("create link 'X'", 1), ("create link 'X'", 2)]
    assert stored_links(store) == []


# --- the CLI against a flaky sandbox ----------------------------------------------------------


def run_cli(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    result = CliRunner().invoke(
        cli,
        [str(a) for a in args],
        env={"SLEEKFLOW_API_KEY": None, "NO_COLOR": None, **(env or {})},
        catch_exceptions=False,
    )
    assert "Traceback" not in result.output and "internal error" not in result.output
    return result


def bulk_config(path: Path, account: str, n: int) -> Path:
    links = [
        {"title": f"Link {i:03d}", "ref": f"r{i}", "message": f"Hello {i}! 100% ok?"}
        for i in range(n)
    ]
    data = {
        "version": 1,
        "channels": [{"account": account, "display_name": account, "links": links}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def assert_converged(store: Path, account: str, n: int) -> None:
    links = stored_links(store)
    titles = [fold(lk.title) for _, lk in links]
    assert len(links) == n, f"{len(links)} links, expected {n}"
    assert len(set(titles)) == n, "duplicate titles"
    assert sorted(lk.title for _, lk in links) == [f"Link {i:03d}" for i in range(n)]
    for acct, lk in links:
        assert acct == account
        assert lk.url == link_url(account, lk.ref, lk.message)


def test_300_creates_through_a_flaky_network_converge(
    sandbox: SandboxFactory, tmp_path: Path, stamina_testing: Callable[[int], None]
) -> None:
    """The fault test: 10% 5xx, 5% 429, 5% of writes committed but unanswered."""
    store = tmp_path / "ws.db"
    assert run_cli("sandbox", "connect", "flaky", "--store", store).exit_code == 0
    config = bulk_config(tmp_path / "w.yaml", "flaky", 300)
    server = sandbox(
        "--fail-rate", "0.10", "--throttle-rate", "0.05", "--drop-after-commit-rate", "0.05",
        "--retry-after", "0", "--seed", "20251125",
    )  # fmt: skip
    stamina_testing(8)  # the policy's 8 attempts, without the waits
    http = ["--backend", "http", "--api-url", server.url]
    started = time.monotonic()
    applied = run_cli("apply", config, *http, "--auto-approve")
    elapsed = time.monotonic() - started
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 300 changes applied." in applied.stdout
    retried = [line for line in applied.stderr.splitlines() if line.startswith("retrying ")]
    # every kind of fault happened, and was retried
    assert any("HTTP 429" in line for line in retried)
    assert any(("HTTP 502" in ln or "HTTP 503" in ln or "HTTP 504" in ln) for ln in retried)
    lost = [line for line in retried if "RemoteProtocolError" in line]
    assert any(line.startswith("retrying create link") for line in lost)
    assert_converged(store, "flaky", 300)
    planned = run_cli("plan", config, *http, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.splitlines()[-1] == "No changes."
    print(f"fault test: {len(retried)} retries ({len(lost)} lost answers) in {elapsed:.1f}s")


def test_an_apply_that_runs_out_of_retries_stops_cleanly_and_a_rerun_converges(
    sandbox: SandboxFactory, tmp_path: Path, stamina_testing: Callable[[int], None]
) -> None:
    store = tmp_path / "ws.db"
    run_cli("sandbox", "connect", "acmepets", "--store", store)
    config = bulk_config(tmp_path / "w.yaml", "acmepets", 20)
    stamina_testing(3)

    # Nothing answers: even the read gives up, and nothing is written.
    down = sandbox("--fail-rate", "1", "--retry-after", "0", "--seed", "3")
    failed = run_cli("apply", config, "--backend", "http", "--api-url", down.url, "--auto-approve")
    assert failed.exit_code == 1
    assert failed.stdout == ""
    assert failed.stderr.splitlines()[-1].startswith(
        "list channels: gave up after 3 attempts: HTTP 50"
    )
    assert stored_links(store) == []

    # Reads get through, then the token bucket runs dry: a create gives up half-way.
    limited = sandbox("--rate-limit", "3", store=store)
    half = run_cli("apply", config, "--backend", "http", "--api-url", limited.url, "--auto-approve")
    assert half.exit_code == 1, half.output
    failed_line = next(ln for ln in half.stdout.splitlines() if ln.startswith("FAILED: "))
    title = failed_line.removeprefix("FAILED: create acmepets: ")
    assert f"  create link '{title}': gave up after 3 attempts: HTTP 429: too many requests" in (
        half.stdout
    )
    assert "The workspace is consistent" in half.stdout
    links = stored_links(store)
    made = {lk.title for _, lk in links}
    assert title not in made and len(made) == len(links) < 20  # none twice, none half-done
    assert made <= {f"Link {i:03d}" for i in range(20)}
    assert all(lk.url == link_url("acmepets", lk.ref, lk.message) for _, lk in links)

    # A healthy server on the same store: the next apply finishes the job.
    healthy = sandbox(store=store)
    http = ["--backend", "http", "--api-url", healthy.url]
    done = run_cli("apply", config, *http, "--auto-approve")
    assert done.exit_code == 0, done.output
    assert f"Apply complete: {20 - len(made)} changes applied." in done.stdout
    assert_converged(store, "acmepets", 20)
    assert run_cli("plan", config, *http, "--detailed-exitcode").exit_code == 0


def test_the_backend_factory_builds_an_http_backend() -> None:
    backend = open_backend("http", store="unused", api_url="http://127.0.0.1:9", api_key=SECRET)
    assert isinstance(backend, HttpBackend)
    assert not backend.capabilities.can_connect
    with pytest.raises(BackendError, match="can't be connected over the API"):
        backend.connect_channel("acmepets", "Acme")
    assert SECRET not in repr(backend)
    backend.close()


def test_a_plan_over_http_is_the_plan_over_the_local_store(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    connect(store, "acmepets")
    config = bulk_config(tmp_path / "w.yaml", "acmepets", 5)
    server = sandbox()
    over_http = run_cli(
        "plan", config, "--backend", "http", "--api-url", server.url, "--format", "json"
    )
    local = run_cli("plan", config, "--store", store, "--format", "json")
    assert over_http.exit_code == local.exit_code == 0
    http_plan, local_plan = json.loads(over_http.stdout), json.loads(local.stdout)
    assert_valid_plan_json(over_http.stdout)
    # the same plan; each names the workspace it was made against, one store seen two ways
    http_where, local_where = http_plan.pop("workspace"), local_plan.pop("workspace")
    assert http_plan == local_plan
    assert http_where["id"] == local_where["id"]
    assert (http_where["backend"], local_where["backend"]) == ("http", "local")
    assert (http_where["location"], local_where["location"]) == (server.url, str(store.resolve()))


# --- the URL and the key, checked before any request ------------------------------------------


def test_an_api_url_with_no_host_is_refused() -> None:
    with pytest.raises(BackendError, match="names no host"):
        HttpBackend("http://", None)


def test_the_key_is_never_sent_in_clear_text_to_a_remote_host() -> None:
    with pytest.raises(BackendError, match="refusing to send SLEEKFLOW_API_KEY in clear text"):
        HttpBackend("http://api.example.com", "k-123")
    for url in ("http://127.0.0.1:8787", "http://localhost:8787", "http://[::1]:8787"):
        HttpBackend(url, "k-123").close()  # the loopback sandbox
    HttpBackend("http://api.example.com", None).close()  # no key, nothing to leak


def test_credentials_in_the_url_and_the_key_stay_out_of_reprs() -> None:
    backend = HttpBackend("https://user:secret-pw@api.example.com", "k-distinctive-123")
    shown = repr(backend) + backend.description + repr(vars(backend)) + repr(backend.api)
    shown += "".join(repr(getattr(backend.api, name)) for name in dir(backend.api))
    assert "secret-pw" not in shown and "k-distinctive-123" not in shown
    assert "api.example.com" in backend.description
    backend.close()


def test_a_host_that_does_not_resolve_is_not_retried() -> None:
    import socket

    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError("[Errno -2] Name or service not known") from exc

    backend = mock_backend(handler)
    with pytest.raises(BackendError, match="gave up after 1 attempt"):
        backend.read()
    assert calls == [1]
