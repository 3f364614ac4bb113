"""Data never drives a terminal (issue 17, finding 6), and stays exact everywhere else.

- **terminal**: a workspace whose titles, messages, refs and display names hold ESC
  sequences (colour, an OSC 8 hyperlink, a window title), C1 controls and bidi overrides is
  printed by ``links`` in every format, ``export``, ``status`` and ``plan`` as JSON and
  markdown to a real terminal (a pty):
  the terminal receives no ESC, no C1 control and no bidi control, only their escapes;
- **exact**: the same commands to a pipe give the data byte for byte as ``--out`` writes it
  (and ``--out /dev/stdout`` on a terminal is escaped as standard output is);
- **retry lines**: a server that names a channel with an id full of escape sequences, and
  answers 503 to its rename: the retry lines and the final error show the id escaped.
"""

from __future__ import annotations

import errno
import json
import os
import pty
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stamina
from click.testing import CliRunner

from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from tests.helpers import clean_environment, reconciler_command
from tests.reliability.figures import record

ESC_TITLE = "Sale \x1b[31mred\x1b[0m \x1b]0;pwned\x07"
OSC8_MESSAGE = "Hi \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x9b2J"
BIDI_REF = "ref\u202egnp"
BIDI_NAME = "Acme \u2066Pets\u2069 \u202e(US)"
#: What a terminal must never receive from data: ESC, C1 (CSI among them), bidi controls.
FORBIDDEN = ["\x1b", "\x9b", "\x07", "\u202e", "\u2066", "\u2069"]
COMMANDS = [
    ["links"],
    ["links", "--format", "csv"],
    ["links", "--format", "json"],
    ["export"],
    ["status"],
    ["plan", "{config}", "--format", "json"],
    ["plan", "{config}", "--format", "markdown"],
]
#: A config that renames the channel (its old name, with bidi controls, is in the plan).
CONFIG = "version: 1\nchannels:\n  - account: acmepets\n    display_name: Acme\n"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("terminal") / "ws.db"
    (store.parent / "w.yaml").write_text(CONFIG, encoding="utf-8")
    backend = LocalBackend(store)
    channel = backend.connect_channel("acmepets", BIDI_NAME)
    backend.create_link(channel.id, title=ESC_TITLE, ref=BIDI_REF, message=OSC8_MESSAGE, key="k1")
    backend.close()
    return store


def on_a_terminal(args: list[str], store: Path) -> str:
    """What ``reconciler ARGS`` writes to a terminal (stdout and stderr on one pty)."""
    leader, follower = pty.openpty()
    args = [a.format(config=store.parent / "w.yaml") for a in args]
    process = subprocess.Popen(
        [*reconciler_command(), *args, "--store", str(store)],
        stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
        env=clean_environment(NO_COLOR="1", TERM="xterm"),
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError as exc:  # EIO: the other end closed
            assert exc.errno == errno.EIO
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8")


def through_a_pipe(args: list[str], store: Path) -> bytes:
    """What ``reconciler ARGS`` writes to a pipe."""
    args = [a.format(config=store.parent / "w.yaml") for a in args]
    result = subprocess.run(
        [*reconciler_command(), *args, "--store", str(store)],
        capture_output=True, env=clean_environment(), timeout=60, check=True,
    )  # fmt: skip
    return result.stdout


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_terminal_receives_no_control_or_bidi_character(
    hostile_store: Path, args: list[str]
) -> None:
    shown = on_a_terminal(args, hostile_store)
    for char in FORBIDDEN:
        assert char not in shown, (repr(char), shown)
    assert "\\u001b" in shown or "\\u202e" in shown, shown  # shown, as escapes
    record("terminal", terminal_runs=1)


DATA_COMMANDS = [c for c in COMMANDS if c[0] in ("links", "export")]


@pytest.mark.parametrize("args", DATA_COMMANDS, ids=" ".join)
def test_out_to_a_terminal_device_is_escaped_too(hostile_store: Path, args: list[str]) -> None:
    shown = on_a_terminal([*args, "--out", "/dev/stdout"], hostile_store)
    for char in FORBIDDEN:
        assert char not in shown, (repr(char), shown)
    record("terminal", terminal_runs=1)


@pytest.mark.parametrize("args", DATA_COMMANDS, ids=" ".join)
def test_a_pipe_receives_the_data_exactly(
    hostile_store: Path, args: list[str], tmp_path: Path
) -> None:
    piped = through_a_pipe(args, hostile_store)
    out = tmp_path / "out"
    through_a_pipe([*args, "--out", str(out)], hostile_store)
    assert piped == out.read_bytes()
    if args != ["links"]:  # the text format is for people: escaped everywhere
        # raw in CSV; as JSON and YAML escape them in JSON and the export (bidi stays raw)
        forms = [ESC_TITLE.encode(), json.dumps(ESC_TITLE).encode(), BIDI_REF.encode()]
        assert any(form in piped for form in forms), piped
    record("terminal", pipe_runs=1)


# --- retry lines -------------------------------------------------------------------------------

HOSTILE_ID = "7\x1b[31m\x1b]0;pwned\x07\u202e"


class _Api(BaseHTTPRequestHandler):
    """An API whose one channel has a hostile id, and whose writes are always a 503."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/v1/workspace"):
            self._send(200, {"id": "w-1"})
        elif self.path.startswith("/v1/tiktok/channels?"):
            channel = {"id": HOSTILE_ID, "account": "acmepets", "display_name": "Old",
                       "status": "connected", "version": 1}  # fmt: skip
            self._send(200, {"data": [channel], "next_cursor": None})
        else:
            self._send(200, {"data": [], "next_cursor": None})

    def do_PATCH(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send(503, {"title": "Service Unavailable", "detail": "try later \x1b[2J"})


@pytest.fixture
def hostile_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_retry_lines_and_errors_show_a_hostile_id_escaped(tmp_path: Path, hostile_api: str) -> None:
    config = tmp_path / "w.yaml"
    config.write_text(
        "version: 1\nchannels:\n  - account: acmepets\n    display_name: New\n    links: []\n",
        encoding="utf-8",
    )
    with stamina.set_testing(True, attempts=3):
        result = CliRunner().invoke(
            cli,
            ["apply", str(config), "--auto-approve", "--backend", "http", "--api-url", hostile_api],
            env={"NO_COLOR": "1"},
        )
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert "retrying rename channel" in output and "internal error" not in output
    for char in FORBIDDEN:
        assert char not in output, (repr(char), output)
    assert "\\u001b" in output
    record("terminal", retry_runs=1)
