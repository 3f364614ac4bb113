"""Secrets: the API key appears nowhere, whatever runs and whatever fails.

tests/backends/test_http.py proves the backend never quotes the key (its errors, repr, a key
that can't be a header) and tests/test_cli_http_lifecycle.py that plan, apply, export and
status never print it. This extends that to every command, with ``--debug`` on throughout,
failures forced (a wrong key: 401; a server that is down; a server answering 503 until the
retries run out; a bad config; a stale saved plan; a key that can't be a header), and to every
place a key could end up:

- stdout and stderr of each run, and the exception with its whole chain and traceback (with
  ``--debug`` the error is raised, not printed);
- every log record of every logger, at DEBUG (httpx, httpcore, stamina included);
- every file left behind: saved plans, exports, CSV and JSON link lists, QR codes (SVG and PNG,
  their metadata included), the SQLite store, the sandbox's own log (``--verbose``);
- the answers of the sandbox itself (a 401 never echoes the key it was given);
- real processes with ``--debug``, whose tracebacks go to stderr.

The key is looked for whole, by a distinctive part of it, and base64-encoded.
"""

from __future__ import annotations

import base64
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
import yaml
from click.testing import CliRunner, Result

from reconciler.cli import cli
from tests.helpers import Sandbox, SandboxFactory, clean_environment, reconciler_command
from tests.reliability.figures import record
from tests.runners import all_text, example

SECRET = "sk-live-RELIABILITY-7d1e0c9b4a52-SECRET"
WRONG = "sk-live-WRONG-3e8f61a0d2-ALSO-SECRET"
DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port


def _needles(key: str) -> list[bytes]:
    raw = key.encode()
    return [raw, raw[len(raw) // 3 : 2 * len(raw) // 3], base64.b64encode(raw)]


NEEDLES = _needles(SECRET) + _needles(WRONG)


def assert_no_secret(text: str | bytes, where: str) -> None:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    for needle in NEEDLES:
        assert needle not in data, f"a key in {where}"
    record("secrets", places_searched=1)


class Runs:
    """Every command in process with --debug and the key in the environment; each run's
    output, exception and traceback searched."""

    def __init__(self, tmp_path: Path, server: Sandbox) -> None:
        self.tmp = tmp_path
        self.server = server
        self.http = ["--backend", "http", "--api-url", server.url]
        self.local = ["--store", str(server.store)]
        self.runner = CliRunner()

    def __call__(self, *args: str | Path, key: str = SECRET, code: int | None = 0) -> Result:
        argv = ["--debug", *(str(a) for a in args)]
        env = {"SLEEKFLOW_API_KEY": key, "RECONCILER_STORE": None, "NO_COLOR": "1"}
        result = self.runner.invoke(cli, argv, env=env)
        text = all_text(result)
        if code is not None:
            assert result.exit_code == code, text
        assert_no_secret(text, f"the output of {' '.join(argv)}")
        record("secrets", runs=1)
        return result


@pytest.fixture
def server(sandbox: SandboxFactory, tmp_path: Path) -> Iterator[Sandbox]:
    store = tmp_path / "ws.db"
    served = sandbox("--verbose", store=store, api_key=SECRET)
    yield served


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert records, "nothing was logged: the capture is broken"
    for rec in records:
        text = f"{rec.name} {rec.getMessage()} {rec.exc_text or ''} {rec.__dict__!r}"
        assert_no_secret(text, f"the log record {rec.name}")
    record("secrets", log_records=len(records))


def test_every_command_with_the_key_set_and_debug_on(
    server: Sandbox, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    run = Runs(tmp_path, server)
    config = tmp_path / "workspace.yaml"
    config.write_text(yaml.safe_dump(example(), allow_unicode=True), encoding="utf-8")
    plan_file, export_file = tmp_path / "plan.json", tmp_path / "export.yaml"

    # the local side (what SleekFlow's UI does), with the key in the environment anyway
    run("sandbox", "connect", "acmepets", "--display-name", "Acme", *run.local)
    run("sandbox", "connect", "acmepets.global", *run.local)
    run("validate", config)
    run("validate", "--format", "json", config)
    for fmt in ("text", "markdown", "json"):
        run("plan", config, *run.http, "--format", fmt)
    run("plan", config, *run.http, "--out", plan_file)
    run("apply", "--plan", plan_file, *run.http, "--auto-approve")
    data = example()
    data["channels"][0]["links"][0]["message"] = "A new message"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run("plan", config, *run.http, "--out", plan_file, "--detailed-exitcode", code=2)
    run("apply", config, "--plan", plan_file, *run.http, "--auto-approve", "--format", "json")
    run("apply", config, *run.http, "--auto-approve")
    run("export", *run.http)
    run("export", *run.http, "--out", export_file)
    run("status", *run.http)
    for fmt in ("text", "csv", "json"):
        run("links", *run.http, "--format", fmt)
        run("links", config, *run.http, "--format", fmt, "--out", tmp_path / f"links.{fmt}")
    run("links", "--changed-since", plan_file, *run.http)
    run("qr", *run.http, "--out", tmp_path / "qr-svg")
    run("qr", config, *run.http, "--out", tmp_path / "qr-png", "--format", "png")
    run("history", "acmepets", *run.local)
    run("history", "acmepets", "--format", "json", *run.local)
    run("sandbox", "disconnect", "acmepets.global", *run.local)
    run("status", *run.http)

    # failures, each with --debug: the error is raised with its traceback
    data["channels"][1]["links"][0]["message"] = "Stale now"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run("sandbox", "connect", "acmepets.global", *run.local)
    run("plan", config, *run.http, "--out", plan_file)
    run("apply", config, *run.http, "--auto-approve")  # the saved plan is stale now
    run("apply", "--plan", plan_file, *run.http, "--auto-approve", code=1)
    run("history", "acmepets", *run.http)
    run("history", "--since", "2026-03-01", "--format", "json", *run.http)
    run("links", "--changed-since", "2026-03-01", *run.http)
    run("links", *run.http, "--format", "html", "--out", tmp_path / "links.html")
    run("history", "nope", *run.http, code=1)
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nchannels:\n  - account: ACME PETS\n", encoding="utf-8")
    run("validate", bad, code=1)
    run("plan", bad, *run.http, code=1)
    run("apply", bad, *run.http, "--auto-approve", code=1)
    commands = [
        ["plan", config],
        ["apply", config, "--auto-approve"],
        ["export"],
        ["status"],
        ["links"],
        ["qr", "--out", tmp_path / "qr-fail"],
    ]
    with stamina.set_testing(True, attempts=2):
        for command in commands:
            run(*command, *run.http, key=WRONG, code=1)  # 401
            run(*command, "--backend", "http", "--api-url", DEAD, code=1)  # down
            run(*command, *run.http, key=SECRET + "\n", code=1)  # not a header value

    # everything left behind
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            assert_no_secret(path.read_bytes(), str(path))
            record("secrets", files_searched=1)
    assert_no_secret(server.stderr, "the sandbox's log")
    assert "GET /v1/tiktok/channels" in server.stderr  # --verbose logged the requests


def test_a_server_that_fails_until_the_retries_run_out(
    sandbox: SandboxFactory, tmp_path: Path, logs: pytest.LogCaptureFixture
) -> None:
    failing = sandbox("--fail-rate", "1", "--retry-after", "0", "--verbose", api_key=SECRET)
    run = Runs(tmp_path, failing)
    with stamina.set_testing(True, attempts=3):
        result = run("status", *run.http, code=1)
    assert "retrying list channels (attempt 1 failed: HTTP 50" in result.stderr
    assert_no_secret(failing.stderr, "the sandbox's log")


def test_the_sandbox_never_echoes_a_key(server: Sandbox) -> None:
    paths = [("GET", "/v1/tiktok/channels"), ("POST", "/v1/tiktok/channels/1/message-links")]
    for key in (WRONG, SECRET[:-1], SECRET + "x"):
        with server.client(key=key) as client:
            for method, path in paths:
                response = client.request(method, path, json={"title": "t", "message": key})
                assert response.status_code == 401
                assert_no_secret(response.content + str(response.headers).encode(), "a 401")


@pytest.mark.parametrize(
    ("args", "key", "expected"),
    [
        (["status"], WRONG, "HTTP 401"),
        (["plan", "CONFIG"], WRONG, "HTTP 401"),
        (["apply", "BAD", "--auto-approve"], SECRET, "unsupported version 2"),
        (["links"], SECRET + "\r\n", "can't be sent as a header"),
    ],
)
def test_real_processes_with_debug(
    server: Sandbox, tmp_path: Path, args: list[str], key: str, expected: str
) -> None:
    config = tmp_path / "workspace.yaml"
    config.write_text(yaml.safe_dump(example(), allow_unicode=True), encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\nchannels: []\n", encoding="utf-8")
    argv = [{"CONFIG": str(config), "BAD": str(bad)}.get(a, a) for a in args]
    done = subprocess.run(
        [*reconciler_command(), "--debug", *argv, "--backend", "http", "--api-url", server.url],
        env=clean_environment(SLEEKFLOW_API_KEY=key),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert b"Traceback" in done.stderr  # --debug
    assert expected.encode() in output, output
    assert_no_secret(output, f"a real process: {args}")
    record("secrets", runs=1)
