"""``sandbox serve``: the HTTP API of docs/api.md over the local SQLite workspace.

Built on the standard library's ``ThreadingHTTPServer``: a handler owns its socket, so a
"dropped after commit" fault really is a closed connection with no response after the write
committed (an ASGI app can't do that under uvicorn: raising before responding becomes a 500,
a different fault). One SQLite connection per server thread (per client connection: the
handler's); the store in WAL mode while it serves, from its first write, so reads never wait
for a commit; ``BEGIN IMMEDIATE`` for writes and a busy timeout serialise writers.

Errors are RFC 9457 ``application/problem+json`` with a stable ``type``; bad input is a 4xx,
never a 500.

The parts: ``app`` (the state requests share, and where a server may listen), ``validation``
(problems, request bodies and paging checked), ``routes`` (the API's resources over the store),
``handler`` (framing, auth, faults), and here the server itself.
"""

from __future__ import annotations

import functools
import socket
import sys
from http.server import ThreadingHTTPServer
from typing import Any

from reconciler.sandbox.app import SandboxApp, check_bind
from reconciler.sandbox.handler import Handler

__all__ = ["SandboxServer", "make_server"]


class SandboxServer(ThreadingHTTPServer):
    """The sandbox API served at ``address``, one thread per connection.

    Before it binds, ``app.check_store`` and ``check_bind`` (with ``allow_remote``) must pass:
    an ``UnsafeBind`` or a ``StoreError`` otherwise, and nothing listens."""

    daemon_threads = True
    allow_reuse_address = True
    #: Connections the kernel holds for ``accept`` (socketserver's default is 5): 32 clients
    #: connecting at once overflowed it, and connections were reset or their handshake
    #: retried a second later (measured: an apply at concurrency 32).
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        app: SandboxApp,
        *,
        allow_remote: bool = False,
        verbose: bool = False,
    ) -> None:
        check_bind(address[0], api_key=app.api_key, allow_remote=allow_remote, control=app.control)
        app.check_store()
        self.app = app
        self.verbose = verbose
        if ":" in address[0]:  # an IPv6 address such as ::1 needs an IPv6 socket
            self.address_family = socket.AF_INET6
        super().__init__(address, functools.partial(Handler, app=app, verbose=verbose))

    def server_close(self) -> None:
        """Stop listening, and leave the store out of WAL mode (``SandboxApp.close``)."""
        super().server_close()
        self.app.close()

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
    app: SandboxApp,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
    verbose: bool = False,
) -> SandboxServer:
    """A server bound to ``host:port`` (port 0 picks a free one), not yet serving.

    Loopback only, unless ``allow_remote`` and ``app`` has an API key and no fault control
    (``check_bind``: an ``UnsafeBind`` otherwise); a store that can't be read is a
    ``StoreError``; a port that can't be bound an ``OSError``."""
    return SandboxServer((host, port), app, allow_remote=allow_remote, verbose=verbose)
