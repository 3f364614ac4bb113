"""A scripted HTTP server on loopback for the http client's tests: each request answered with
the bytes a script returns, for the answers a real server seldom gives (a close without an
answer, a reset, silence, a slow drip, something that is not HTTP)."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable

import httpx

#: What the scripted server does with one request: the bytes it answers, or the parts it sends
#: one after another (a number between them: seconds to pause); None: close at once.
Script = Callable[[bytes], bytes | Iterable[bytes | float] | None]


def ok(body: bytes = b"{}", *, close: bool = False, extra: str = "") -> bytes:
    """A 200 with ``body``, and ``Connection: close`` when ``close``."""
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}"
    head += "Connection: close\r\n" if close else ""
    return head.encode() + b"\r\n" + body


class Scripted:
    """A loopback server answering each request by ``script``; it counts the connections it
    accepted and keeps every request it read (head and body)."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[bytes] = []
        #: Close each connection after its first answer, without saying so.
        self.close_after_each = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls = tls
        scheme = "https" if tls else "http"
        self.url = httpx.URL(f"{scheme}://127.0.0.1:{self.port}/")
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                return
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                request, buffer = head + b"\r\n\r\n" + buffer[:length], buffer[length:]
                self.requests.append(request)
                answer = self.script(request)
                if answer is None:
                    return
                parts = [answer] if isinstance(answer, bytes) else list(answer)
                try:
                    for part in parts:
                        if isinstance(part, bytes):
                            conn.sendall(part)
                        else:
                            time.sleep(part)
                except OSError:  # the client gave up on the answer
                    return
                sent = b"".join(part for part in parts if isinstance(part, bytes))
                if b"Connection: close" in sent or self.close_after_each:
                    return

    def close(self) -> None:
        self.listener.close()
