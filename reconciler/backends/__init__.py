"""Backends: the workspace as the engine sees it (see ``base.Backend``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.backends.base import Backend
from reconciler.errors import BackendError, StoreError
from reconciler.model import visible


def reads_remotely(kind: str) -> bool:
    """Whether the backend named ``kind`` reads over a network (worth reading ahead:
    ``planning.ReadAhead``)."""
    return kind == "http"


def open_backend(
    kind: str,
    *,
    store: str,
    api_url: str | None = None,
    api_key: str | None = None,
    concurrency: int = 8,
    on_retry: Callable[[str, int, str], None] | None = None,
) -> Backend:
    """The backend named ``kind`` ("local" or "http"), ready to read.

    A local ``store`` must exist: a command that reads a workspace never makes one on the
    spot (a forgotten ``--backend http`` would otherwise plan and apply against an empty
    demo store); ``StoreError`` says how to make one. ``api_url``, ``api_key``,
    ``concurrency`` and ``on_retry`` are the http backend's; the key is kept only in the
    client's headers, never in a message.
    """
    if kind == "local":
        make = (
            "make the demo one with 'reconciler sandbox connect ACCOUNT', name another with "
            "--store, or use SleekFlow's API with --backend http (RECONCILER_BACKEND=http)"
        )
        path = Path(store)
        if not path.exists():
            raise StoreError(f"there is no local workspace at {visible(store)}: {make}")
        if not path.is_dir() and (not path.is_file() or path.stat().st_size == 0):
            # An empty file (touched, truncated) or a device reads as an empty workspace,
            # and the first write would make a store in it: as good as none.
            what = "an empty file" if path.is_file() else "not a file"
            raise StoreError(f"{visible(store)} is not a local workspace ({what}): {make}")
        # Imported here: backends.local imports this package (for base), and plan against
        # the API shouldn't load sqlite3 and the store, nor plan locally httpx (below).
        from reconciler.backends.local import LocalBackend

        return LocalBackend(store)
    if kind == "http":
        if not api_url:
            raise BackendError(
                "--backend http needs the API's URL: pass --api-url or set SLEEKFLOW_API_URL"
            )
        from reconciler.backends.http import HttpBackend

        return HttpBackend(api_url, api_key, concurrency=concurrency, on_retry=on_retry)
    raise BackendError(f"unknown backend {kind!r}: this reconciler has 'local' and 'http'")
