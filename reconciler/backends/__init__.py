"""Backends: the workspace as the engine sees it (see ``base.Backend``)."""

from __future__ import annotations

from reconciler.backends.base import Backend
from reconciler.errors import BackendError


def open_backend(kind: str, *, store: str, api_url: str | None = None) -> Backend:
    """The backend named ``kind`` ("local" or "http"), ready to read."""
    if kind == "local":
        from reconciler.backends.local import LocalBackend

        return LocalBackend(store)
    raise BackendError(f"unknown backend {kind!r}: this reconciler has 'local'")
