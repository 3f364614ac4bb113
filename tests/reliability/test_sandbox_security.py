"""Security of ``sandbox serve``: where it listens, who it answers, what it reads, where it
writes.

Already proven elsewhere, and not repeated here: another address needs ``--allow-remote`` and
a key (tests/sandbox/test_server.py::
test_it_binds_loopback_and_refuses_another_address_without_allow_remote), a missing or wrong
key is a 401 on every documented route before the body is looked at
(::test_a_missing_or_wrong_key_is_a_401), a body over 64 KiB is a 413 and a chunked one a 411
(::test_every_client_error_is_a_problem_with_a_stable_type), a QR file name can't leave
``--out`` (tests/test_qr.py::test_hostile_titles_give_safe_names,
::test_write_refuses_a_name_with_a_directory_part,
::test_write_replaces_a_symlink_rather_than_following_it). Here:

- the socket really is bound to loopback (the kernel's own table says so), ``localhost`` and
  ``::1`` are allowed, a remote address works with ``--allow-remote`` and a key, and
  ``--control`` is refused on anything but loopback;
- without the key, every path is a 401, known or not, traversal or not, the control included:
  nothing about the routes leaks;
- framing: a Content-Length one byte over the limit, or of a terabyte, is a 413 at once
  (without reading the body, and without the key); exactly 64 KiB is read; any
  Transfer-Encoding, a second Content-Length, or one in non-ASCII digits is refused (request
  smuggling), and headers too long or too many are a 431;
- paths: a URL climbing out (``..``, encoded or not) is a 404 from the router, never a file;
  ``--store ../x`` is an ordinary relative path (nothing written anywhere else); hostile titles
  through ``reconciler qr`` end up as files inside ``--out`` and nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.sandbox.app import CONTROL_PATH
from tests.helpers import Sandbox, SandboxFactory, clean_environment, raw_request
from tests.reliability.figures import record

KEY = "security-test-key"
SERVE = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0"]
PROBLEM = "https://reconciler.dev/problems/"


def listening_addresses(port: int) -> set[str]:
    """The addresses the kernel has a listening TCP socket on ``port`` for (Linux)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table, encoding="ascii") as handle:
            next(handle)
            for line in handle:
                local, state = line.split()[1], line.split()[3]
                host, _, hex_port = local.partition(":")
                if state != "0A" or int(hex_port, 16) != port:
                    continue
                raw = bytes.fromhex(host)
                # /proc prints each 32-bit word in host byte order (little endian here)
                words = [raw[i : i + 4][::-1] for i in range(0, len(raw), 4)]
                found.add(str(ipaddress.ip_address(b"".join(words))))
    return found


def port_of(server: Sandbox) -> int:
    return int(server.url.rsplit(":", 1)[1])


def problem_type(body: bytes) -> str:
    return str(json.loads(body)["type"]).removeprefix(PROBLEM)


# --- where it listens -----------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads the kernel's table")
def test_it_listens_on_loopback_only_by_default(sandbox: SandboxFactory) -> None:
    server = sandbox()
    assert server.url.startswith("http://127.0.0.1:")
    assert listening_addresses(port_of(server)) == {"127.0.0.1"}
    record("sandbox security", checks=1)


def _serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``sandbox serve ARGS``; exit code, first stdout line, stderr. A server that
    starts is stopped with SIGTERM once it has said where it listens."""
    process = subprocess.Popen(
        [*SERVE, "--store", str(tmp_path / "ws.db"), *args],
        env=clean_environment(**(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    if first:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    return process.returncode, first, err


@pytest.mark.parametrize(
    ("args", "env", "code", "said"),
    [
        (["--host", "localhost"], {}, 0, "Serving local workspace"),
        (["--host", "::1"], {}, 0, "at http://[::1]:"),
        (["--host", "0.0.0.0", "--allow-remote"], {"SLEEKFLOW_API_KEY": KEY}, 0,
         "API key required"),
        (["--host", "0.0.0.0", "--allow-remote", "--control"], {"SLEEKFLOW_API_KEY": KEY}, 1,
         "--control is for a sandbox on a loopback address only"),
        (["--host", "10.1.2.3"], {"SLEEKFLOW_API_KEY": KEY}, 1, "not a loopback address"),
    ],
)  # fmt: skip
def test_which_addresses_it_accepts(
    tmp_path: Path, args: list[str], env: dict[str, str], code: int, said: str
) -> None:
    if "::1" in args and not socket.has_ipv6:
        pytest.skip("no IPv6")
    exit_code, first, err = _serve(tmp_path, *args, env=env)
    assert exit_code == code, err
    assert said in first + err
    assert "Traceback" not in err
    record("sandbox security", checks=1)


# --- who it answers -------------------------------------------------------------------------


@pytest.fixture
def keyed(sandbox: SandboxFactory, tmp_path: Path) -> Sandbox:
    backend = LocalBackend(tmp_path / "ws.db")
    channel = backend.connect_channel("acmepets", "Acme")
    backend.create_link(channel.id, title="Bio", ref=None, message="Hi", key="k")
    backend.close()
    return sandbox("--control", store=tmp_path / "ws.db", api_key=KEY)


PATHS = [
    "/v1/tiktok/channels",
    "/v1/tiktok/channels/1",
    "/v1/tiktok/channels/1/message-links",
    "/v1/tiktok/channels/1/message-links/1",
    "/openapi.json",
    CONTROL_PATH,
    "/nope",
    "/",
    "/v1/tiktok/channels/../../../etc/passwd",
    "/v1/tiktok/channels/%2e%2e/%2e%2e/etc/passwd",
    "/..%2f..%2fetc%2fpasswd",
    "//etc/passwd",
]
METHODS = ["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS"]


@pytest.mark.parametrize("key", [None, "wrong", KEY.upper(), KEY[:-1]])
def test_without_the_key_every_path_is_a_401(keyed: Sandbox, key: str | None) -> None:
    headers = {} if key is None else {"X-Sleekflow-Api-Key": key}
    with httpx.Client(base_url=keyed.url, headers=headers) as anonymous:
        for path in PATHS:
            for method in METHODS:
                body = b'{"title": "x", "message": "y"}' if method in ("POST", "PATCH") else None
                response = anonymous.request(
                    method, path, content=body, headers={"Content-Type": "application/json"}
                )
                assert response.status_code == 401, (method, path, response.text)
                record("sandbox security", unauthenticated_requests=1)
    with keyed.client() as client:  # nothing was done
        (link,) = client.get("/v1/tiktok/channels/1/message-links").json()["data"]
        assert link["title"] == "Bio"


def test_a_url_climbing_out_is_a_404_never_a_file(keyed: Sandbox) -> None:
    with keyed.client() as client:
        for path in [*PATHS[-4:], "/openapi.json/../../../../etc/passwd", "/v1/../../ws.db"]:
            response = client.get(path)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["type"] == PROBLEM + "not-found"
            assert b"root:" not in response.content and b"SQLite" not in response.content
            record("sandbox security", traversal_requests=1)


# --- what it reads ----------------------------------------------------------------------------

POST = b"POST /v1/tiktok/channels/1/message-links HTTP/1.1\r\nHost: x\r\n"
JSON = b"Content-Type: application/json\r\nIdempotency-Key: k-raw\r\n"
AUTH = f"X-Sleekflow-Api-Key: {KEY}\r\n".encode()


@pytest.mark.parametrize(
    ("headers", "body", "status", "kind"),
    [
        (b"Content-Length: 65537\r\n", b"", 413, "payload-too-large"),  # no key needed
        (b"Content-Length: 1099511627776\r\n", b"", 413, "payload-too-large"),
        # claims a megabyte and sends the first 64 KiB: answered without waiting for the rest
        (AUTH + JSON + b"Content-Length: 1048576\r\n", b"x" * 65536, 413, "payload-too-large"),
        (AUTH + JSON + b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n", 411, "length-required"),
        (AUTH + JSON + b"Transfer-Encoding: gzip, chunked\r\nContent-Length: 2\r\n", b"{}",
         411, "length-required"),
        (AUTH + JSON + b"Transfer-Encoding: identity\r\nContent-Length: 2\r\n", b"{}",
         411, "length-required"),
        (AUTH + JSON + b"Content-Length: 2\r\nContent-Length: 100\r\n", b"{}", 400, "bad-request"),
        (AUTH + JSON + b"Content-Length: 2\r\nContent-Length: 2\r\n", b"{}", 400, "bad-request"),
        (AUTH + JSON + b"Content-Length: -1\r\n", b"", 400, "bad-request"),
        (AUTH + JSON + b"Content-Length: \xb2\r\n", b"{}", 400, "bad-request"),  # "²"
        (AUTH + JSON + b"Content-Length: 0x10\r\n", b"{}", 400, "bad-request"),
        (AUTH + JSON + b"X-Big: " + b"a" * 70_000 + b"\r\nContent-Length: 2\r\n", b"{}",
         431, "headers-too-large"),
        (AUTH + JSON + b"".join(b"X-%d: 1\r\n" % i for i in range(120)) + b"Content-Length: 2\r\n",
         b"{}", 431, "headers-too-large"),
    ],
)  # fmt: skip
def test_framing_that_could_hurt_is_refused(
    keyed: Sandbox, headers: bytes, body: bytes, status: int, kind: str
) -> None:
    started = time.monotonic()
    got, _, answer = raw_request(keyed, POST + headers + b"\r\n" + body)
    assert time.monotonic() - started < 5
    assert got == status, answer[:300]
    assert problem_type(answer) == kind
    assert "Traceback" not in keyed.stderr
    with keyed.client() as client:  # nothing was created
        titles = [
            lk["title"] for lk in client.get("/v1/tiktok/channels/1/message-links").json()["data"]
        ]
    assert titles == ["Bio"]
    record("sandbox security", framing_attacks=1)


def test_a_body_of_exactly_64_kib_is_read(keyed: Sandbox) -> None:
    prefix, suffix = b'{"title": "Big", "message": "', b'"}'
    body = prefix + b"x" * (64 * 1024 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 64 * 1024
    with keyed.client() as client:
        response = client.post(
            "/v1/tiktok/channels/1/message-links",
            content=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": "big"},
        )
    assert response.status_code == 422  # read and judged: the message is too long
    assert response.json()["errors"][0]["field"] == "message"


# --- where it writes ---------------------------------------------------------------------------


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_a_store_path_climbing_up_is_an_ordinary_relative_path(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    before = _tree(tmp_path)
    connected = subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "connect", "acmepets",
         "--store", "../outside/ws.db"],
        cwd=work, env=clean_environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert connected.returncode == 0, connected.stderr
    assert "../outside/ws.db" in connected.stdout
    assert _tree(tmp_path) - before == {"a/outside", "a/outside/ws.db"}
    # served from there too, and reading it writes nothing
    process = subprocess.Popen(
        [*SERVE, "--store", "../outside/ws.db"], cwd=work, env=clean_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    url = re.search(r"http://127\.0\.0\.1:\d+", process.stdout.readline())
    assert url is not None
    with httpx.Client(base_url=url.group()) as client:
        accounts = [c["account"] for c in client.get("/v1/tiktok/channels").json()["data"]]
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert accounts == ["acmepets"]
    assert _tree(tmp_path) - before == {"a/outside", "a/outside/ws.db"}
    record("sandbox security", checks=1)


HOSTILE_TITLES = [
    "../../escape",
    "/etc/passwd",
    "a/b/c",
    "..",
    ".hidden",
    "C:\\Windows\\x",
    "con",
    "nul\u0000byte",  # a control character and
    "~root",
    "$(touch pwned)",
    "\u202eevil.svg",  # a bidi control: a config refuses them, a workspace may have them
]


def test_qr_codes_of_hostile_titles_land_inside_out_only(tmp_path: Path) -> None:
    store, out = tmp_path / "ws.db", tmp_path / "deep" / "qr"
    config = tmp_path / "workspace.yaml"
    from_config = [t for t in HOSTILE_TITLES if "\u202e" not in t and "\u0000" not in t]
    links = [{"title": t, "message": f"Hi {n}"} for n, t in enumerate(from_config)]
    data = {"version": 1, "channels": [{"account": "acme", "display_name": "A", "links": links}]}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    env = {"RECONCILER_STORE": None}
    assert runner.invoke(cli, ["sandbox", "connect", "acme", "--store", str(store)]).exit_code == 0
    applied = runner.invoke(
        cli, ["apply", str(config), "--store", str(store), "--auto-approve"], env=env
    )
    assert applied.exit_code == 0, applied.output
    backend = LocalBackend(store)
    [acme] = backend.read().channels
    for n, title in enumerate(t for t in HOSTILE_TITLES if t not in from_config):
        backend.create_link(acme.id, title=title, ref=None, message=f"Hi {n}", key=f"refused-{n}")
    backend.close()
    before = _tree(tmp_path)
    for fmt in ("svg", "png"):
        made = runner.invoke(
            cli, ["qr", "--store", str(store), "--out", str(out), "--format", fmt], env=env
        )
        assert made.exit_code == 0, made.output
    new = _tree(tmp_path) - before
    files = {p for p in new if p.startswith("deep/qr/")}
    assert new == {"deep", "deep/qr"} | files
    assert len(files) == 2 * len(HOSTILE_TITLES)
    assert all("/" not in name.removeprefix("deep/qr/") for name in files)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    record("sandbox security", hostile_titles=len(HOSTILE_TITLES))
