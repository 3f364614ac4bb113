"""``sandbox serve``: the HTTP API of docs/api.md over the local SQLite workspace.

Built on the standard library's ``ThreadingHTTPServer``: a handler owns its socket, so a
"dropped after commit" fault really is a closed connection with no response after the write
committed (an ASGI app can't do that under uvicorn: raising before responding becomes a 500,
a different fault). One SQLite connection per request, ``BEGIN IMMEDIATE`` for writes and a busy
timeout serialise writers.

Errors are RFC 9457 ``application/problem+json`` with a stable ``type``; bad input is a 4xx,
never a 500.

The parts: ``validation`` (problems, request bodies and paging checked), ``routes`` (the API's
resources over the store), ``handler`` (framing, auth, faults), and here the server itself.
"""

from __future__ import annotations

import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.backends.local import LocalBackend
from reconciler.net import is_loopback
from reconciler.sandbox.faults import FaultConfig, FaultInjector
from reconciler.sandbox.handler import CONTROL_PATH, Handler

__all__ = ["CONTROL_PATH", "SandboxApp", "SandboxServer", "is_loopback", "make_server"]


@dataclass
class SandboxApp:
    """What every request handler shares: the store, the key, the faults, in-flight keys;
    ``control`` enables ``CONTROL_PATH`` (loopback clients only)."""

    store: Path
    api_key: str | None = field(default=None, repr=False)
    faults: FaultInjector = field(default_factory=lambda: FaultInjector(FaultConfig()))
    control: bool = False
    in_flight: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def backend(self) -> LocalBackend:
        """A new backend on the store (the caller closes it)."""
        return LocalBackend(self.store)


class SandboxServer(ThreadingHTTPServer):
    """The sandbox API served at ``address``, one thread per connection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        if ":" in address[0]:  # an IPv6 address such as ::1 needs an IPv6 socket
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer is not an error of the server's: say nothing.
        Anything else is printed with its traceback, as the base class does."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """The base URL the server answers at (``http://host:port``)."""
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"


def make_server(
    app: SandboxApp, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> SandboxServer:
    """A server bound to ``host:port`` (port 0 picks a free one), not yet serving."""
    return SandboxServer((host, port), app, verbose=verbose)
