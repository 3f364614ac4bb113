"""Helpers shared by the tests: literal states, a real in-memory workspace, the plan JSON
Schema check every JSON plan must pass, the text chunks of a PNG, and a real
``sandbox serve`` process."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from PIL import Image, PngImagePlugin

from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.errors import Problem
from reconciler.links import ChangeStatus, LinkRow, UrlChangeRow
from reconciler.model import (
    Channel,
    ChannelStatus,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    Link,
    WorkspaceState,
    link_url,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@cache
def plan_validator() -> Draft202012Validator:
    """A validator for ``reconciler/schemas/plan.schema.json`` (the schema checked first)."""
    text = resources.files("reconciler").joinpath("schemas/plan.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_valid_plan_json(text: str) -> dict[str, Any]:
    """Parse a JSON plan and assert it matches the plan schema; return the data."""
    data = json.loads(text)
    errors = sorted(plan_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    return data  # type: ignore[no-any-return]


# --- literal states -------------------------------------------------------------------------


def dl(title: str, message: str, ref: str | None = None) -> DesiredLink:
    """A desired link."""
    return DesiredLink(title=title, message=message, ref=ref)


def dc(
    account: str, display_name: str | None = None, *links: DesiredLink, **kw: Any
) -> DesiredChannel:
    """A desired channel; ``display_name`` defaults to the account (None with remove=True)."""
    if display_name is None and not kw.get("remove"):
        display_name = account
    return DesiredChannel(account=account, display_name=display_name, links=links, **kw)


def desired(*channels: DesiredChannel) -> DesiredState:
    return DesiredState(channels)


def link(
    ident: int, title: str, message: str, ref: str | None = None, *, account: str = "acmepets"
) -> Link:
    """An existing link whose id and creation order (``seq``) are ``ident``."""
    return Link(str(ident), title, ref, message, link_url(account, ref, message), seq=ident)


def channel(
    account: str,
    display_name: str | None = None,
    *links: Link,
    status: ChannelStatus = ChannelStatus.CONNECTED,
    ident: str | None = None,
) -> Channel:
    """An existing channel; ``display_name`` defaults to the account."""
    return Channel(ident or f"c-{account}", account, display_name or account, status, links)


def workspace(*channels: Channel) -> WorkspaceState:
    return WorkspaceState(channels)


# --- the page of links: its rows, one of them changed ---------------------------------------

#: A title that would be markup, a bidi override, if it were not escaped.
HOSTILE = "<script>alert('x')</script> & \"quoted\" \u202eevil"


def link_row(channel: str, ident: int, title: str, message: str, ref: str | None = None) -> LinkRow:
    """A link as ``links.select`` gives it, with the URL of the rule."""
    return LinkRow(
        channel=channel,
        title=title,
        ref=ref,
        message=message,
        url=link_url(channel, ref, message),
        display_name=f"{channel.title()} shop",
        link_id=str(ident),
        seq=ident,
    )


PAGE_ROWS = [
    link_row("acmepets", 1, "June Giveaway Bio Link", "Hi! I'd like to join the giveaway.", "bio"),
    link_row("acmepets", 2, "VIP Program", "Join our VIP program today", "vip"),
    link_row("acmepets", 3, HOSTILE, "Hi <b>there</b> & welcome <img src=x onerror=alert(1)>"),
    link_row("acmepets.global", 4, "Bio Link - 日本語", "こんにちは！ 🐶🐱 ページから", "bio_ja"),
    link_row("acmepets.global", 5, "Adoption RSVP", "RSVP: see you there 🐶🐱 — a spot?", "rsvp"),
]  # fmt: skip
#: The VIP link's URL before its message changed, and that change, applied.
OLD_VIP = link_url("acmepets", "vip", "Join our VIP program")
VIP_CHANGE = UrlChangeRow(
    channel="acmepets",
    title="VIP Program",
    where="ads",
    old_url=OLD_VIP,
    new_url=PAGE_ROWS[1].url,
    status=ChangeStatus.APPLIED,
    current_url=PAGE_ROWS[1].url,
)


# --- a real workspace -----------------------------------------------------------------------


@contextmanager
def memory_backend() -> Iterator[LocalBackend]:
    """A real LocalBackend on an in-memory SQLite database, closed afterwards."""
    backend = LocalBackend(connection=sqlite3.connect(":memory:"))
    try:
        yield backend
    finally:
        backend.close()


def seed(backend: LocalBackend, state: WorkspaceState) -> WorkspaceState:
    """Create ``state``'s channels and links (in order) in ``backend``; return what it reads."""
    for ch in state.channels:
        created = backend.connect_channel(ch.account, ch.display_name)
        for lk in sorted(ch.links, key=lambda x: x.seq):
            backend.create_link(
                created.id,
                title=lk.title,
                ref=lk.ref,
                message=lk.message,
                key=f"seed-{ch.account}-{lk.id}",
            )
        if ch.status is ChannelStatus.DISCONNECTED:
            StoreApi(backend).set_status(ch.account, ChannelStatus.DISCONNECTED)
    return backend.read()


def every_action_plan(*, can_connect: bool = True) -> tuple[DesiredState, WorkspaceState]:
    """A desired and an actual state whose plan has one change of every kind (two creates,
    two removals) and a warning and an info diagnostic."""
    actual = workspace(
        channel(
            "acmepets",
            "Acme",
            link(1, "Bio", "Hi", "bio"),
            link(2, "Ad summer", "Sale", "fb_ad"),
            link(3, "Old title", "Story time"),
            link(4, "Gone", "Bye now", "old"),
        ),
        channel("oldbrand", "Old Brand", link(5, "Poster", "QR", account="oldbrand")),
        channel("zoo", "Zoo"),
    )
    want = desired(
        dc(
            "acmepets",
            "Acme Pets",
            dl("Bio", "Hello there", "bio"),
            dl("Ad summer", "Sale", "fb_ad"),
            dl("New title", "Story time"),
            dl("Fresh", "Join our VIP program", "fb_ad"),
        ),
        dc("oldbrand", remove=True),
        dc("newshop", "New Shop", dl("Welcome", "Hi!")),
    )
    return want, actual


def png_text(png: bytes | Path) -> dict[str, str]:
    """The text chunks of a PNG, as Pillow reads them."""
    image = Image.open(png if isinstance(png, Path) else io.BytesIO(png))
    assert isinstance(image, PngImagePlugin.PngImageFile)
    return dict(image.text)


# --- the sandbox server, as a real process ------------------------------------------------


#: The line ``sandbox serve`` prints once it listens.
SERVING = re.compile(r"^Serving local workspace .* at (http://127\.0\.0\.1:\d+) \(")
#: How long a sandbox may take to start or to stop before the fixture fails.
SANDBOX_TIMEOUT_S = 15.0


def reconciler_command() -> list[str]:
    """The installed console script next to this interpreter (else on PATH), else
    ``python -m reconciler``: what a user runs."""
    script = Path(sys.executable).with_name("reconciler")
    if script.exists():
        return [str(script)]
    found = shutil.which("reconciler")
    return [found] if found else [sys.executable, "-m", "reconciler"]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without reconciler's variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "SLEEKFLOW_"))}
    env.update(extra)
    return env


@dataclass
class Sandbox:
    """A running ``reconciler sandbox serve`` process."""

    url: str
    store: Path
    api_key: str | None
    process: subprocess.Popen[str]
    stderr_path: Path
    stdout_lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def client(self, *, key: str | None = None, **kwargs: object) -> httpx.Client:
        """An httpx client for this server, sending ``key`` (default: the server's key)."""
        headers = {}
        if (key or self.api_key) is not None:
            headers["X-Sleekflow-Api-Key"] = key or self.api_key or ""
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0, **kwargs)  # type: ignore[arg-type]

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM, then wait; the exit code (the process is killed if it doesn't stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=SANDBOX_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=SANDBOX_TIMEOUT_S)
                raise AssertionError("the sandbox did not stop on SIGTERM") from None
        if self.reader is not None:
            self.reader.join(timeout=SANDBOX_TIMEOUT_S)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def _read_lines(stream: object, into: list[str], first: threading.Event) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.append(line)
        first.set()
    first.set()


def _wait_until_listening(url: str, deadline: float) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def start_sandbox(
    directory: Path,
    *flags: str,
    store: Path | None = None,
    api_key: str | None = None,
) -> Sandbox:
    """Start ``python -m reconciler sandbox serve --port 0`` on ``store`` (default
    ``directory/ws.db``) with ``flags`` (fault options), and wait until it answers. Without
    fault flags "answers" means GET /openapi.json is a 200; with them, a TCP connect (so the
    check spends none of the seeded faults)."""
    store = store or directory / "ws.db"
    stderr_path = directory / f"sandbox-{time.monotonic_ns()}.stderr"
    env = clean_environment(**({"SLEEKFLOW_API_KEY": api_key} if api_key else {}))
    argv = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0"]
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [*argv, "--store", str(store), *flags],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            encoding="utf-8",
        )
    lines: list[str] = []
    first = threading.Event()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines, first), daemon=True)
    reader.start()
    deadline = time.monotonic() + SANDBOX_TIMEOUT_S
    sandbox = Sandbox("", store, api_key, process, stderr_path, lines, reader)
    try:
        if not first.wait(SANDBOX_TIMEOUT_S) or not lines:
            raise AssertionError(f"the sandbox printed no URL; stderr:\n{sandbox.stderr}")
        match = SERVING.match(lines[0])
        assert match is not None, f"unexpected first line: {lines[0]!r}"
        sandbox.url = match.group(1)
        _wait_until_listening(sandbox.url, deadline)
        if not flags:
            with sandbox.client() as client:
                assert client.get("/openapi.json").status_code == 200
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def stop_all(started: list[Sandbox]) -> None:
    """Stop every sandbox; each must exit 0 after SIGTERM, with no traceback."""
    problems = []
    for sandbox in started:
        code = sandbox.stop()
        stderr = sandbox.stderr
        if code != 0 or "Traceback" in stderr:
            problems.append(f"{sandbox.url}: exit {code}\n{stderr}")
    assert not problems, "\n".join(problems)


SandboxFactory = Callable[..., Sandbox]


def raw_request(server: Sandbox, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and body of the answer."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


# --- config texts ---------------------------------------------------------------------------

#: A config with eleven problems, one of each kind, each at its own position.
TEN_MISTAKES = """\
version: 1
channels:
  - account: acme.
    display_name: "   "
    colour: red
    links:
      - title: yes
        message: hi
      - title: Promo
        ref: "bad ref"
        message: hi
      - title: promo
        message: hi
        mesage: typo
  - account: second
    links:
      - title: ok
        message: [1, 2]
  - account: SECOND
    display_name: dup
    max_change_pct: 150
"""


def located(problem: Problem) -> str:
    """``str(problem)`` without the leading path: "LINE:COL: message"."""
    return str(problem).removeprefix(f"{problem.path}:")


#: A valid config of one channel; tests append keys of that channel to it.
CHANNEL = "version: 1\nchannels:\n  - account: acme\n    display_name: A\n"
