"""The local workspace: a SQLite file standing in for a SleekFlow workspace.

- ``schema``: the application id, the schema version, the tables and their migrations;
- ``store``: opening and checking the file, its read and write transactions (``Store``);
- ``rows``: the store's rows as the engine's values (``Channel``, ``Link``);
- ``backend``: ``LocalBackend``, the engine's ``Backend`` over a store;
- ``shapes`` and ``api``: the store as the sandbox's HTTP API shows it (``StoreApi``), which
  only the sandbox uses.
"""

from __future__ import annotations

from reconciler.backends.local.backend import IDEMPOTENCY_TTL, LocalBackend
from reconciler.backends.local.schema import APPLICATION_ID, SCHEMA_VERSION
from reconciler.backends.local.store import DEFAULT_STORE

__all__ = ["APPLICATION_ID", "DEFAULT_STORE", "IDEMPOTENCY_TTL", "SCHEMA_VERSION", "LocalBackend"]
