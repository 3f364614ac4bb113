"""Fixtures of the backend tests."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import pytest

from tests.backends.scripted import Script, Scripted


@pytest.fixture
def scripted() -> Iterator[Callable[..., Scripted]]:
    servers: list[Scripted] = []

    def start(script: Script, tls: ssl.SSLContext | None = None) -> Scripted:
        servers.append(Scripted(script, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
