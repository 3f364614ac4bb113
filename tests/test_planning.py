"""``reconciler.planning``: a config's plan made against a workspace read ahead (``ReadAhead``:
an API's read started while the config is parsed, a local store read when asked), with a
config's errors still first."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler import config, planning
from reconciler.backends.http import HttpBackend
from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.config.sources import ConfigFile, Loaded
from reconciler.errors import BackendError, ConfigError
from tests.helpers import Sandbox, SandboxFactory, dc, desired, dl

CONFIG = "version: 1\nchannels:\n  - account: acmepets\n    display_name: Acme\n    links: []\n"


def seeded(store: Path) -> None:
    backend = LocalBackend(store)
    channel = backend.connect_channel("acmepets", "Acme Pets")
    backend.create_link(channel.id, title="Bio", ref=None, message="hi", key="k-1")
    backend.close()


@pytest.fixture
def server(sandbox: SandboxFactory, tmp_path: Path) -> Sandbox:
    """A sandbox serving a store ``seeded`` with one channel and its link."""
    store = tmp_path / "ws.db"
    seeded(store)
    return sandbox(store=store)


def test_an_api_is_read_ahead_and_the_plan_is_the_same(server: Sandbox) -> None:
    wanted = Loaded(
        desired=desired(dc("acmepets", "Acme Pets", dl("Bio", "hi"), dl("New", "there"))),
        files=(ConfigFile(path="w.yaml", sha256="0" * 64),),
    )
    plain = HttpBackend(server.url, None)
    expected = planning.plan_against(wanted, plain)
    ahead = planning.ReadAhead(lambda: HttpBackend(server.url, None), remote=True)
    assert ahead.during(lambda: "parsed") == "parsed"
    the_plan = planning.plan_against(wanted, ahead)
    assert the_plan == expected
    assert [c.title for c in the_plan.changes] == ["New"]
    assert ahead.read() == (plain.read(), plain.workspace())
    plain.close()
    ahead.backend().close()


def test_threads_switch_often_while_a_remote_read_is_beside_the_parse(server: Sandbox) -> None:
    seen: list[float] = []

    class Watched(HttpBackend):
        def read(self) -> Any:
            seen.append(sys.getswitchinterval())
            return super().read()

    before = sys.getswitchinterval()
    ahead = planning.ReadAhead(lambda: Watched(server.url, None), remote=True)
    state, _ = ahead.read()
    assert [c.account for c in state.channels] == ["acmepets"]
    assert seen == [min(before, planning._SWITCH_S)] and sys.getswitchinterval() == before
    ahead.backend().close()


def test_a_local_store_is_read_when_asked(tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    ahead = planning.ReadAhead(lambda: LocalBackend(store), remote=False)
    seeded(store)  # after the read-ahead began: a local read waits until it is asked for
    state, _ = ahead.read()
    assert [c.account for c in state.channels] == ["acmepets"]
    ahead.backend().close()


def test_a_refusal_to_open_waits_for_the_config(tmp_path: Path) -> None:
    def refuse() -> HttpBackend:
        raise BackendError("no such API")

    bad = tmp_path / "w.yaml"
    bad.write_text("version: 7\n", encoding="utf-8")
    ahead = planning.ReadAhead(refuse, remote=True)
    with pytest.raises(ConfigError):
        ahead.during(lambda: config.load_with_digest(str(bad)))
    with pytest.raises(BackendError, match="no such API"):
        ahead.read()


def test_a_bad_config_is_reported_before_a_bad_workspace(tmp_path: Path) -> None:
    config = tmp_path / "w.yaml"
    config.write_text(CONFIG.replace("version: 1", "version: 7"), encoding="utf-8")
    for args in (
        ["--backend", "http", "--api-url", "ftp://nowhere"],
        ["--store", str(tmp_path / "missing.db")],
    ):
        for command in (["plan"], ["apply", "--auto-approve"]):
            result = CliRunner().invoke(cli, [*command, str(config), *args])
            assert result.exit_code == 1, result.output
            assert "w.yaml:1:" in result.stderr, result.stderr
            assert "ftp://" not in result.stderr and "missing.db" not in result.stderr
    config.write_text(CONFIG, encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(config), "--backend", "http", "--api-url",
                                      "ftp://nowhere"])  # fmt: skip
    assert result.exit_code == 1
    assert "--api-url must be an http:// or https:// URL" in result.stderr


def test_a_bad_config_closes_the_read_ahead_after_its_read(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    seeded(store)
    server = sandbox("--latency-ms", "100", store=store)
    bad = tmp_path / "w.yaml"
    bad.write_text("version: 7\n", encoding="utf-8")
    ahead = planning.ReadAhead(lambda: HttpBackend(server.url, None), remote=True)
    with pytest.raises(ConfigError):
        ahead.during(lambda: config.load_with_digest(str(bad)))
    # The read ended (not cut short mid-connection), and the backend was closed after it.
    state, _ = ahead.read()
    assert [c.account for c in state.channels] == ["acmepets"]
    with pytest.raises(BackendError, match="the client was closed"):
        ahead.backend().read()
