"""Runners of the reconciler command for the tests: in-process through click's CliRunner
(``Cli``, ``HttpCli``) and as the installed command in a real process (``reconciler``), each
checking what every run must hold (no traceback, no internal error, no colour off a terminal);
and the example workspace the command-line tests start from."""

from __future__ import annotations

import subprocess
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.model import Link
from tests.helpers import (
    EXAMPLE,
    Sandbox,
    assert_valid_plan_json,
    clean_environment,
    reconciler_command,
)

VIP = ("acmepets", "VIP Program")
BIO = ("acmepets", "June Giveaway Bio Link")
SALE = ("acmepets", "Ad - Summer Sale")
PROMO = ("acmepets.global", "Influencer Promo")
#: Commands that read the workspace, so take --store.
STORE_COMMANDS = {
    "plan",
    "apply",
    "export",
    "status",
    "connect",
    "disconnect",
    "links",
    "qr",
    "history",
}


HTTP_KEY = "sk-live-7f3a9c-HTTP-LIFECYCLE-KEY"
#: Commands that read the workspace: over http they get --backend http --api-url.
WORKSPACE_COMMANDS = {"plan", "apply", "export", "status", "links", "qr", "history"}


class Cli:
    """Runs reconciler in-process against one store, and checks what every run must hold:
    no traceback, no internal error, no ANSI codes (output is not a terminal), and every
    JSON plan valid against the plan schema."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.store = tmp_path / "ws.db"
        self.config = tmp_path / "w.yaml"
        self.runner = CliRunner()

    def __call__(
        self,
        *args: str | Path,
        code: int | None = 0,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        argv = [str(a) for a in args]
        if STORE_COMMANDS.intersection(argv[:2]) and not {"--help", "--store"} & set(argv):
            argv += ["--store", str(self.store)]
        result = self.runner.invoke(
            cli, argv, input=input, env={"NO_COLOR": None, **(env or {})}, catch_exceptions=False
        )
        out = result.output
        assert "Traceback" not in out and "internal error" not in out, out
        assert "\x1b[" not in out, "ANSI escape codes although the output is not a terminal"
        if code is not None:
            assert result.exit_code == code, f"exit {result.exit_code}, expected {code}:\n{out}"
        if argv[:1] == ["plan"] and "json" in argv and result.stdout.strip():
            assert_valid_plan_json(result.stdout)
        if argv[:1] == ["plan"] and "--out" in argv and "Saved the plan to" in result.stderr:
            saved = Path(argv[argv.index("--out") + 1])
            if saved.exists():
                assert_valid_plan_json(saved.read_text(encoding="utf-8"))
        return result

    # --- the config file ----------------------------------------------------------------

    def write(self, data: dict[str, Any], path: Path | None = None) -> Path:
        target = path or self.config
        target.write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        return target

    # --- the store, read directly -------------------------------------------------------

    def links(self) -> dict[tuple[str, str], Link]:
        backend = LocalBackend(self.store)
        state = backend.read()
        backend.close()
        return {(c.account, lk.title): lk for c in state.channels for lk in c.links}

    def export(self) -> str:
        return self("export").stdout

    def backend(self) -> LocalBackend:
        return LocalBackend(self.store)


class HttpCli(Cli):
    """``Cli`` with plan, apply, export, status, links, qr and history sent to a sandbox over
    HTTP, the key in SLEEKFLOW_API_KEY. ``sandbox connect``/``disconnect`` and ``links()``
    still use the store the sandbox serves, standing in for what happens in SleekFlow's UI."""

    def __init__(self, tmp_path: Path, server: Sandbox) -> None:
        super().__init__(tmp_path)
        assert server.store == self.store
        self.server = server

    def __call__(
        self,
        *args: str | Path,
        code: int | None = 0,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        argv = [str(a) for a in args]
        if argv[:1] and argv[0] in WORKSPACE_COMMANDS and "--help" not in argv:
            argv += ["--backend", "http", "--api-url", self.server.url]
        env = {"SLEEKFLOW_API_KEY": HTTP_KEY, **(env or {})}
        result = super().__call__(*argv, code=code, input=input, env=env)
        assert HTTP_KEY not in result.output, "the API key was printed"
        return result


def body(output: str) -> str:
    """``output`` without the line naming its workspace (and the blank line after it) that
    opens every plan, apply report and status."""
    lines = output.split("\n")
    if lines and lines[0].startswith("Workspace: "):
        lines = lines[2:] if len(lines) > 1 and lines[1] == "" else lines[1:]
    return "\n".join(lines)


def example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def link_of(data: dict[str, Any], account: str, title: str) -> dict[str, Any]:
    channel = next(c for c in data["channels"] if c["account"] == account)
    return next(lk for lk in channel["links"] if lk["title"] == title)


def apply_example(run: Cli) -> Cli:
    """The example applied to a workspace where both its accounts were connected first."""
    run("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)")
    run("sandbox", "connect", "acmepets.global", "--display-name", "Acme Pets (Global)")
    run.write(example())
    run("apply", run.config, "--auto-approve")
    return run


def edit_vip(run: Cli, message: str = "Join our VIP program now") -> dict[str, Any]:
    data = example()
    link_of(data, *VIP)["message"] = message
    run.write(data)
    return data


def all_text(result: Result) -> str:
    """Everything a run left behind: both streams, and any exception with its traceback."""
    text = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        text += repr(exc) + "".join(traceback.format_exception(exc))
        for linked in (exc.__cause__, exc.__context__):
            if linked is not None:
                text += repr(linked) + "".join(traceback.format_exception(linked))
    return text


def environment(**extra: str) -> dict[str, str]:
    """``clean_environment`` without NO_COLOR, so colour depends on the terminal alone."""
    env = clean_environment(**extra)
    if "NO_COLOR" not in extra:
        env.pop("NO_COLOR", None)
    return env


def reconciler(
    *args: str | Path, cwd: Path, code: int | None = 0, **env: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*reconciler_command(), *(str(a) for a in args)],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "\x1b[" not in output, "colour although the output is not a terminal"
    if code is not None:
        assert result.returncode == code, f"exit {result.returncode}, expected {code}:\n{output}"
    return result


@dataclass(frozen=True)
class Reprints:
    """What ``reprint_story`` did: the Summer Sale ad regenerated before ``moment`` (a time
    to the second, as ISO 8601), the VIP link after it; each link's URL before and after."""

    moment: str
    sale_before: str
    sale_after: str
    vip_before: str
    vip_after: str


def reprint_story(run: Cli) -> Reprints:
    """The example applied, then the Summer Sale ad edited (a new URL), a second boundary
    crossed, and the VIP link edited: which posters to reprint depends on since when."""
    apply_example(run)
    before = run.links()
    data = example()
    link_of(data, *SALE)["message"] = "Hi! Is the Summer Sale still on?"
    run.write(data)
    run("apply", run.config, "--auto-approve")
    sale_after = run.links()[SALE].url
    # The history keeps times to the second: the VIP edit must come a second later.
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)
    link_of(data, *VIP)["message"] = "Join our VIP program today"
    run.write(data)
    run("apply", run.config, "--auto-approve")
    return Reprints(
        moment=moment.isoformat(),
        sale_before=before[SALE].url,
        sale_after=sale_after,
        vip_before=before[VIP].url,
        vip_after=run.links()[VIP].url,
    )
