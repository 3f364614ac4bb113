"""What a sandbox server is, apart from its sockets: the state its requests share
(``SandboxApp``), and the policy of where it may listen (``check_bind``).

The policy is the library's, not the command line's: ``SandboxServer`` checks it before it
binds, so a server built without the CLI is exactly as safe as ``sandbox serve``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.backends.local.store import end_wal
from reconciler.errors import ApiProblem, UnsafeBind
from reconciler.net import host_header_name, is_loopback
from reconciler.sandbox.faults import FaultConfig, FaultInjector

#: The test control of ``sandbox serve --control``: read and change the faults of a running
#: server. Not part of the API (absent from the OpenAPI document): a 404 without --control.
CONTROL_PATH = "/_sandbox/faults"


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

    def open(self) -> StoreApi:
        """The API's view of a newly opened store (the caller closes it). Its first write puts
        the store in WAL mode, so one connection's write never blocks another's reads
        (``close`` takes it back out)."""
        return StoreApi(LocalBackend(self.store, wal=True))

    def close(self) -> None:
        """Leave the store as the local backend has it: out of WAL mode (``store.end_wal``)."""
        end_wal(self.store)

    def check_host(self, values: list[str]) -> None:
        """Refuse a request whose ``Host`` headers (``values``) this server should not
        answer: none or several (a 400, RFC 9112 section 3.2), or, on a server without an
        API key, a name that is not loopback (a 421): a web page that rebinds its own name to
        127.0.0.1 (DNS rebinding) sends its name, and a keyless sandbox would otherwise do
        what the page asks. A server with a key is protected by the key, wherever it is."""
        if len(values) != 1:
            raise ApiProblem(400, "bad-request", "a request needs exactly one Host header")
        if self.api_key is None and not _names_loopback(values[0]):
            raise ApiProblem(
                421,
                "misdirected-request",
                "this sandbox has no API key, so it answers only requests for a loopback "
                "name (Host: 127.0.0.1, localhost or [::1])",
            )

    def check_store(self) -> None:
        """Open and check the store, reading one row: a ``StoreError`` now for a store that
        can't be read (a directory, another program's database, a newer schema), rather than
        a 503 to every client that would retry it. Nothing is created."""
        api = self.open()
        try:
            api.page_channels(after=0, limit=1)
        finally:
            api.close()


@lru_cache(maxsize=64)
def _names_loopback(value: str) -> bool:
    """Whether the ``Host`` header ``value`` names this machine's loopback (a client sends
    the same one on every request: its answer is kept)."""
    host = host_header_name(value)
    return host is not None and is_loopback(host)


def check_bind(host: str, *, api_key: str | None, allow_remote: bool, control: bool) -> None:
    """Refuse (``UnsafeBind``) to serve on ``host`` unless it is safe: a loopback address, or,
    with ``allow_remote``, any address when there is an API key and no fault control (the
    control is for loopback only). ``UnsafeBind.setting`` names the setting at fault."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise UnsafeBind(
            f"{host} is not a loopback address: pass --allow-remote to expose the sandbox",
            setting="host",
        )
    if api_key is None:
        raise UnsafeBind(
            "--allow-remote needs an API key: set SLEEKFLOW_API_KEY", setting="api_key"
        )
    if control:
        raise UnsafeBind("--control is for a sandbox on a loopback address only", setting="control")
