"""Fixtures shared by every test: a local store, a config writer, sandbox processes.
Helpers that are not fixtures live in ``tests/helpers.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.backends.local import LocalBackend
from tests.helpers import Sandbox, SandboxFactory, start_sandbox, stop_all

# --- a local workspace ------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Where a local store will be (nothing is there yet)."""
    return tmp_path / "ws" / "workspace.db"


@pytest.fixture
def backend(store: Path) -> Iterator[LocalBackend]:
    """A ``LocalBackend`` on ``store``, closed after the test."""
    b = LocalBackend(store)
    yield b
    b.close()


@pytest.fixture
def write(tmp_path: Path):
    """Write a config text to a file in tmp_path and return its path."""

    def _write(text: str | bytes, name: str = "workspace.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


# --- the sandbox server, as a real process (``tests.helpers.start_sandbox``) ----------------


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxFactory]:
    """A factory: ``sandbox(*fault_flags, store=..., api_key=...)`` starts a sandbox server
    process (store default ``tmp_path/ws.db``); all are stopped (SIGTERM) after the test,
    and each must exit cleanly."""
    started: list[Sandbox] = []

    def start(*flags: str, store: Path | None = None, api_key: str | None = None) -> Sandbox:
        server = start_sandbox(tmp_path, *flags, store=store, api_key=api_key)
        started.append(server)
        return server

    yield start
    stop_all(started)


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxFactory]:
    """Like ``sandbox``, for servers shared by the tests of one module."""
    directory = tmp_path_factory.mktemp("sandbox")
    started: list[Sandbox] = []

    def start(*flags: str, store: Path | None = None, api_key: str | None = None) -> Sandbox:
        server = start_sandbox(directory, *flags, store=store, api_key=api_key)
        started.append(server)
        return server

    yield start
    stop_all(started)
