from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "workspace.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def write(tmp_path: Path):
    """Write a config text to a file in tmp_path and return its path."""

    def _write(text: str | bytes, name: str = "workspace.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


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


def _stop_all(started: list[Sandbox]) -> None:
    """Stop every sandbox; each must exit 0 after SIGTERM, with no traceback."""
    problems = []
    for sandbox in started:
        code = sandbox.stop()
        stderr = sandbox.stderr
        if code != 0 or "Traceback" in stderr:
            problems.append(f"{sandbox.url}: exit {code}\n{stderr}")
    assert not problems, "\n".join(problems)


SandboxFactory = Callable[..., Sandbox]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxFactory]:
    """A factory: ``sandbox(*fault_flags, store=..., api_key=...)`` starts a sandbox server
    process (store default ``tmp_path/ws.db``); all are stopped (SIGTERM) after the test,
    and each must exit cleanly."""
    started: list[Sandbox] = []

    def start(*flags: str, store: Path | None = None, api_key: str | None = None) -> Sandbox:
        server = start_sandbox(tmp_path, *flags, store=store, api_key=api_key)
        started.append(server)
        return server

    yield start
    _stop_all(started)


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxFactory]:
    """Like ``sandbox``, for servers shared by the tests of one module."""
    directory = tmp_path_factory.mktemp("sandbox")
    started: list[Sandbox] = []

    def start(*flags: str, store: Path | None = None, api_key: str | None = None) -> Sandbox:
        server = start_sandbox(directory, *flags, store=store, api_key=api_key)
        started.append(server)
        return server

    yield start
    _stop_all(started)


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
