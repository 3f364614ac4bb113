"""Fixtures of the command-line tests: ``run``, a runner against a fresh workspace in
tmp_path, and ``applied``, the same with the example applied.

A test module marked ``pytestmark = pytest.mark.http`` gets an ``HttpCli`` (the workspace
served by a real ``sandbox serve`` process and read over HTTP); every other one a ``Cli`` on
the local SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import SandboxFactory
from tests.runners import HTTP_KEY, Cli, HttpCli, apply_example


@pytest.fixture
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    """A runner of the reconciler command against a workspace of its own."""
    if request.node.get_closest_marker("http") is None:
        yield Cli(tmp_path)
        return
    sandbox: SandboxFactory = request.getfixturevalue("sandbox")
    server = sandbox(api_key=HTTP_KEY)
    yield HttpCli(tmp_path, server)
    assert HTTP_KEY not in server.stderr


@pytest.fixture
def applied(run: Cli) -> Cli:
    """``run`` with the example applied, both its accounts connected first."""
    return apply_example(run)
