"""Where the API key could still go (issue 17, findings 4 and 5), through real processes:

- **proxy**: a real proxy on loopback records every byte it is sent while ``reconciler plan``
  runs with ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` set. A loopback API is reached
  directly (the proxy hears nothing: it would otherwise get the key in clear text); a
  clear-text API elsewhere is refused before any request; an https API is tunnelled, and the
  proxy never sees the key.
- **echo**: ``--api-url`` values that carry a password (``HTTP://user:KEY@...`` in upper case,
  ``ftp://user:KEY@...``, malformed ones) never print it, whether refused or used; nor do
  proxy variables, with or without a scheme (``token@proxy:3128``).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Sandbox, SandboxFactory
from tests.reliability.figures import record
from tests.runners import reconciler

KEY = "sk-live-PROXY-9c2e71-KEY"
PASSWORD = "pw-ECHO-5b7d3a"


class RecordingProxy:
    """A proxy on loopback that answers every connection with a 502 after reading what it is
    sent, and keeps every byte: what a proxy on the way would learn."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received = bytearray()
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    while b"\r\n\r\n" not in self.received:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        self.received += chunk
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    recording = RecordingProxy()
    yield recording
    recording.close()


@pytest.fixture
def keyed(sandbox: SandboxFactory, tmp_path: Path) -> Sandbox:
    return sandbox(api_key=KEY)


def plan(tmp: Path, url: str, code: int | None, **env: str) -> str:
    """``reconciler plan`` of an empty config against the API at ``url``; its output."""
    (tmp / "w.yaml").write_text("version: 1\nchannels: []\n", encoding="utf-8")
    result = reconciler(
        "plan", "w.yaml", "--backend", "http", "--api-url", url, cwd=tmp, code=code, **env
    )
    record("key exposure", runs=1)
    return result.stdout + result.stderr


def proxies(url: str) -> dict[str, str]:
    """Every proxy variable, in both cases, naming ``url``."""
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    return {n: url for n in names} | {n.lower(): url for n in names}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST"])
def test_a_loopback_api_is_never_reached_through_a_proxy(
    tmp_path: Path, keyed: Sandbox, proxy: RecordingProxy, host: str
) -> None:
    port = keyed.url.rsplit(":", 1)[1]
    output = plan(tmp_path, f"http://{host}:{port}", 0, SLEEKFLOW_API_KEY=KEY, **proxies(proxy.url))
    assert "No changes" in output or "Plan:" in output or "no change" in output.lower(), output
    assert proxy.connections == 0 and bytes(proxy.received) == b""
    assert KEY not in output
    record("key exposure", proxy_checks=1)


@pytest.mark.parametrize("key", [KEY, ""])
def test_a_clear_text_api_elsewhere_is_refused_through_a_proxy(
    tmp_path: Path, proxy: RecordingProxy, key: str
) -> None:
    output = plan(
        tmp_path, "http://api.example.test", 1, SLEEKFLOW_API_KEY=key, **proxies(proxy.url)
    )
    assert "refusing to send" in output and "https://" in output, output
    assert proxy.connections == 0
    record("key exposure", proxy_checks=1)


def test_an_https_api_is_tunnelled_and_the_proxy_never_sees_the_key(
    tmp_path: Path, proxy: RecordingProxy
) -> None:
    output = plan(
        tmp_path, "https://api.example.test", 1, SLEEKFLOW_API_KEY=KEY, **proxies(proxy.url)
    )
    assert proxy.connections >= 1 and bytes(proxy.received).startswith(b"CONNECT ")
    assert KEY.encode() not in bytes(proxy.received) and KEY not in output
    record("key exposure", proxy_checks=1)


ECHOED = [
    "HTTP://user:{pw}@127.0.0.1:{port}",  # used: upper-case scheme, credentials in the URL
    "HtTp://user:{pw}@LOCALHOST:{port}/",  # used too
    "ftp://user:{pw}@127.0.0.1:1",
    "gopher:user:{pw}@127.0.0.1",
    "http:/user:{pw}@127.0.0.1:1",
    " http://user:{pw}@127.0.0.1:1",
    "http://user:{pw}@[zz]/",
    "http://user:{pw}@[::1",
    "http://user:{pw}@a..b",
    "https://user:{pw}@xn--a",
    "http://user:{pw}@127.0.0.1:99999",
    "http://user:{pw}@127.0.0.1:1/x?y",
    "http://user:{pw}@host name/",
    "http://{pw}@127.0.0.1:abc",
    "http://user:{pw}@api.example.test",  # refused: clear text with a key
]


@pytest.mark.parametrize("template", ECHOED)
def test_a_password_in_the_api_url_is_never_printed(
    tmp_path: Path, keyed: Sandbox, template: str
) -> None:
    port = keyed.url.rsplit(":", 1)[1]
    url = template.format(pw=PASSWORD, port=port)
    output = plan(tmp_path, url, None, SLEEKFLOW_API_KEY=KEY)
    assert PASSWORD not in output and KEY not in output, output
    assert "internal error" not in output
    record("key exposure", echo_checks=1)


#: Proxy variables as people write them, some without a scheme (which urllib passes on as
#: they are): the credentials in each must never be printed, whatever becomes of the proxy.
PROXY_TEMPLATES = [
    "{pw}@proxy.example:3128",
    "user:{pw}@proxy.example:3128",
    "http:{pw}@proxy.example:3128",
    "http:/{pw}@proxy.example/",
    "{pw}@[::1]:3128",
    "ftp://{pw}@proxy.example",
]


@pytest.mark.parametrize("template", PROXY_TEMPLATES)
def test_a_proxy_variable_never_prints_its_credentials(tmp_path: Path, template: str) -> None:
    env = proxies(template.format(pw=PASSWORD)) | {"SLEEKFLOW_API_KEY": KEY}
    output = plan(tmp_path, "https://api.example.test", None, **env)
    assert PASSWORD not in output and KEY not in output, output
    assert "internal error" not in output
    record("key exposure", echo_checks=1)
