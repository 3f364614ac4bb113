"""Backends: the workspace as the engine sees it (see ``base.Backend``)."""

from __future__ import annotations

from collections.abc import Callable

from reconciler.backends.base import Backend
from reconciler.errors import BackendError


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

    ``api_url``, ``api_key``, ``concurrency`` and ``on_retry`` are the http backend's; the
    key is kept only in the client's headers, never in a message.
    """
    if kind == "local":
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
