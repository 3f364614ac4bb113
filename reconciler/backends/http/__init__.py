"""The http backend: ``HttpBackend`` (``backend``) over one request path (``client``)."""

from __future__ import annotations

from reconciler.backends.http.backend import HttpBackend
from reconciler.backends.http.client import ApiClient, RetryPolicy
from reconciler.backends.http.pacing import parse_retry_after

__all__ = ["ApiClient", "HttpBackend", "RetryPolicy", "parse_retry_after"]
