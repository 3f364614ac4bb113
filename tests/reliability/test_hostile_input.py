"""Bad input that used to be an "internal error" or a 500 (issue 17, findings 2 and 3), in
families, each case through the real command (and the real sandbox for the API cases):

- **plan-numbers**: a saved plan with a huge number (over 4,300 digits, a 5,000-digit
  fraction, ``1e400``) in place of each of its values, through ``apply --plan`` and
  ``links --changed-since``;
- **api-url**: ``--api-url`` values no URL parser agrees on (``http://[::1``, ``http://[zz]``,
  ``http://a..b``, ``https://xn--``, a port of 99999, a query...);
- **rate-options**: every rate option of ``sandbox serve`` (and the fault control) given NaN
  or infinity;
- **damaged-store**: a store edited by hand (a BLOB title, ref or account, a status outside
  its two values, a BLOB or an unknown event in the history) read by every command, and
  served by the sandbox;
- **api-numbers**: request bodies with huge numbers in every field of every write.

Each must be a clear message and exit 1 (a 4xx for the API), never a traceback, an "internal
error" or a 500, and change nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.backends.local import LocalBackend
from tests.helpers import SandboxFactory, clean_environment
from tests.reliability.figures import record
from tests.runners import Cli, apply_example, edit_vip

KEY = "sk-hostile-input-KEY-4d1e"
#: Numbers no reader should choke on: over Python's 4,300-digit limit, fractions of 5,000
#: digits, exponents past a double's range, and one just under the limit.
HUGE = ["9" * 5000, "-" + "9" * 4301, "1." + "9" * 5000, "0." + "0" * 5000 + "1", "1e400",
        "-1e400", "9" * 4299]  # fmt: skip


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leaves(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value in ``value`` (objects and lists included), the root left out."""
    found = [where] if where else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaves(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaves(item, (*where, index))
    return found


def with_number(data: Any, where: tuple[Any, ...], number: str) -> str:
    """``data`` as JSON with the value at ``where`` replaced by the literal ``number``."""
    copy = json.loads(json.dumps(data))
    parent = copy
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = "@@NUMBER@@"
    return json.dumps(copy, indent=2).replace('"@@NUMBER@@"', number)


# --- plan-numbers ------------------------------------------------------------------------------


def test_a_plan_file_with_a_huge_number_anywhere_is_refused_clearly(tmp_path: Path) -> None:
    run = apply_example(Cli(tmp_path))
    edit_vip(run)
    saved = tmp_path / "saved.json"
    run("plan", run.config, "--out", saved)
    data = json.loads(saved.read_text(encoding="utf-8"))
    pristine = run.store.read_bytes()
    paths = leaves(data)
    # every top-level value with each number; deeper ones with one number each, in turn
    cases = [(p, n) for p in paths if len(p) == 1 for n in HUGE]
    cases += [(p, HUGE[i % len(HUGE)]) for i, p in enumerate(q for q in paths if len(q) > 1)]
    broken = tmp_path / "broken.json"
    refused = 0
    for where, number in cases:
        broken.write_text(with_number(data, where, number), encoding="utf-8")
        unreadable = len(number.lstrip("-")) > 4300 and "." not in number
        for args in (
            ("apply", "--plan", broken, run.config, "--auto-approve"),
            ("links", "--changed-since", broken),
        ):
            run.store.write_bytes(pristine)
            result = run(*args, code=None)
            # a number in a place that takes any number (a share, a count) may be accepted
            assert result.exit_code in (0, 1), result.output
            if result.exit_code == 1 or unreadable:
                assert result.exit_code == 1 and result.stdout == ""
                assert result.stderr.startswith(f"{broken}"), result.stderr
                assert run.store.read_bytes() == pristine
                refused += 1
            record("hostile input", plan_number_runs=1)
    assert refused > len(cases)
    record("hostile input", plan_number_cases=len(cases))


# --- api-url -------------------------------------------------------------------------------------

BAD_URLS = [
    "http://[::1", "http://[zz]", "http://[::1]x", "http://a..b", "http://.a", "https://xn--",
    "https://xn--a", "http://-a/", "http://a-/", "http://127.0.0.1:99999", "http://127.0.0.1:0",
    "http://127.0.0.1:abc", "http://127.0.0.1:", "http://", "http:///x", "http://a b/",
    "http://a\tb/", "http://a\\b/", "http://127.0.0.1:1/x?y", "http://127.0.0.1:1/#f",
    " http://127.0.0.1:1", "ftp://127.0.0.1", "127.0.0.1:8787", "http:127.0.0.1",
    "http://" + "a" * 64 + ".com", "http://" + "a." * 130 + "com",
]  # fmt: skip


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_api_url_is_a_clear_refusal(tmp_path: Path, url: str) -> None:
    run = Cli(tmp_path)
    run.write({"version": 1, "channels": []})
    result = run(
        "plan", run.config, "--backend", "http", "--api-url", url, code=1,
        env={"SLEEKFLOW_API_KEY": KEY},
    )  # fmt: skip
    assert result.stderr.startswith("--api-url "), result.stderr
    assert "\t" not in result.stderr and KEY not in result.output
    record("hostile input", api_urls=1)


# --- rate-options ---------------------------------------------------------------------------------

RATE_OPTIONS = ["--latency-ms", "--fail-rate", "--throttle-rate", "--rate-limit",
                "--drop-before-commit-rate", "--drop-after-commit-rate",
                "--reset-rate"]  # fmt: skip


@pytest.mark.parametrize("option", RATE_OPTIONS)
@pytest.mark.parametrize("value", ["nan", "-nan", "inf"])
def test_a_rate_option_that_is_not_a_finite_number_is_refused(
    tmp_path: Path, option: str, value: str
) -> None:
    argv = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0"]
    try:
        result = subprocess.run(
            [*argv, "--store", str(tmp_path / "ws.db"), option, value],
            capture_output=True, text=True, timeout=30, env=clean_environment(), check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AssertionError(f"sandbox serve {option} {value} started serving") from None
    assert result.returncode == 1, result.stdout + result.stderr
    assert option in result.stderr and "Traceback" not in result.stderr
    assert "internal error" not in result.stderr and "Serving" not in result.stdout
    record("hostile input", rate_options=1)


def test_the_fault_control_refuses_what_is_not_a_finite_number(sandbox: SandboxFactory) -> None:
    server = sandbox("--control")
    with server.client() as client:
        for field in ("latency_ms", "fail_rate", "rate_limit", "reset_rate"):
            for literal in ("NaN", "Infinity", "-Infinity", "1e999", "9" * 5000):
                body = f'{{"{field}": {literal}}}'
                response = client.post(
                    "/_sandbox/faults", content=body,
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                assert response.status_code in (400, 422), (body[:60], response.text)
                record("hostile input", control_bodies=1)
        assert client.get("/v1/tiktok/channels").status_code == 200  # still serving, no fault
    assert "Traceback" not in server.stderr


# --- damaged-store -------------------------------------------------------------------------------

DAMAGE = {
    "blob title": ("links", "UPDATE links SET title = X'41FF42' WHERE id = 1"),
    "blob title, valid UTF-8": ("links",
                                "UPDATE links SET title = CAST('Bio' AS BLOB) WHERE id = 1"),
    "blob ref": ("links", "UPDATE links SET ref = X'FF' WHERE id = 1"),
    "blob message": ("links", "UPDATE links SET message = X'00' WHERE id = 1"),
    "real version": ("links", "UPDATE links SET version = 1.5 WHERE id = 1"),
    "status outside the two": ("channels", "PRAGMA ignore_check_constraints = ON; "
                               "UPDATE channels SET status = 'gone' WHERE id = 1"),
    "blob account": ("channels", "UPDATE channels SET account = X'FF' WHERE id = 1"),
    "blob display name": ("channels", "UPDATE channels SET display_name = X'FF' WHERE id = 1"),
    "blob in the history": ("link_history", "UPDATE link_history SET title = X'00FF'"),
    "blob url in the history": ("link_history", "UPDATE link_history SET new_url = X'00FF'"),
    "event outside the four": ("link_history", "PRAGMA ignore_check_constraints = ON; "
                               "UPDATE link_history SET event = 'lost'"),
}  # fmt: skip
READERS = [
    ("plan", "{config}"), ("plan", "{config}", "--out", "{out}"), ("plan", "{config}", "--format",
    "json"), ("apply", "{config}", "--auto-approve"), ("export",), ("links",), ("links", "--format",
    "csv"), ("links", "--format", "json"), ("status",), ("history", "acmepets"),
    ("qr", "--out", "{out}"),
]  # fmt: skip


def damage(store: Path, sql: str) -> None:
    db = sqlite3.connect(store)
    db.executescript(sql)
    db.commit()
    db.close()


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_store_edited_by_hand_is_a_clear_error_for_every_command(
    tmp_path: Path, case: str
) -> None:
    run = apply_example(Cli(tmp_path))
    table, sql = DAMAGE[case]
    damage(run.store, sql)
    before = digest(run.store)
    failed = 0
    for number, args in enumerate(READERS):
        out = tmp_path / f"out-{number}"
        argv = [a.format(config=run.config, out=out) for a in args]
        result = run(*argv, code=None)
        assert result.exit_code in (0, 1), result.output
        if result.exit_code == 1:
            failed += 1
            assert f"store {run.store} is damaged" in result.stderr, result.stderr
            assert f"table {table}" in result.stderr
            assert not out.exists() or out.is_dir()
        record("hostile input", damaged_store_runs=1)
    assert digest(run.store) == before
    assert failed >= (1 if table == "link_history" else len(READERS) - 1)


def test_the_sandbox_answers_a_damaged_store_without_a_500(
    tmp_path: Path, sandbox: SandboxFactory
) -> None:
    run = apply_example(Cli(tmp_path))
    damage(run.store, DAMAGE["blob title"][1])
    server = sandbox()
    with server.client() as client:
        for path in (
            "/v1/tiktok/channels/1/message-links",
            "/v1/tiktok/channels/1/message-links/1",
        ):
            response = client.get(path)
            assert response.status_code == 503, response.text
            assert "table links" in response.json()["detail"]
            record("hostile input", damaged_store_requests=1)
    damage(run.store, DAMAGE["status outside the two"][1])
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0",
         "--store", str(run.store)],
        capture_output=True, text=True, timeout=30, env=clean_environment(), check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "table channels" in result.stderr, result.stderr
    assert "Traceback" not in server.stderr + result.stderr


# --- api-numbers ---------------------------------------------------------------------------------

WRITES = [
    ("POST", "/v1/tiktok/channels/1/message-links", {"title": "T", "ref": "r", "message": "m"}),
    ("PATCH", "/v1/tiktok/channels/1/message-links/1", {"title": "T", "ref": "r", "message": "m"}),
    ("PATCH", "/v1/tiktok/channels/1", {"display_name": "D"}),
]


def test_api_bodies_with_huge_numbers_are_4xx_never_500(
    tmp_path: Path, sandbox: SandboxFactory
) -> None:
    backend = LocalBackend(tmp_path / "ws.db")
    channel = backend.connect_channel("acmepets", "Acme")
    backend.create_link(channel.id, title="Bio", ref=None, message="hi", key="k-0")
    backend.close()
    server = sandbox(api_key=KEY)
    before = digest(tmp_path / "ws.db")
    statuses: set[int] = set()
    with server.client() as client:
        for method, path, body in WRITES:
            shapes = [*leaves(body), ("extra",)]
            for index, where in enumerate(shapes):
                for number in HUGE:
                    text = with_number(body | {"extra": 0}, where, number)
                    if where != ("extra",):
                        text = text.replace(', "extra": 0', "").replace('"extra": 0', "")
                    headers = {"Content-Type": "application/json", "If-Match": '"1"',
                               "Idempotency-Key": f"k-{index}-{len(number)}"}  # fmt: skip
                    response = client.request(method, path, content=text, headers=headers)
                    assert 400 <= response.status_code < 500, (method, path, text[:80])
                    assert response.headers["content-type"] == "application/problem+json"
                    statuses.add(response.status_code)
                    record("hostile input", api_number_requests=1)
            for nested in ([int("9" * 100)], {"n": 1}, [[["9" * 10]]]):
                text = json.dumps(body | {"title" if "title" in body else "display_name": nested})
                text = text.replace('"' + "9" * 10 + '"', "9" * 5000)
                response = client.request(method, path, content=text, headers=headers)
                assert 400 <= response.status_code < 500, (method, path, text[:80])
                record("hostile input", api_number_requests=1)
    assert statuses <= {400, 422}
    assert digest(tmp_path / "ws.db") == before
    assert "Traceback" not in server.stderr
