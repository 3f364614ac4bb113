"""What the CI tests share: the installed command run as a real process in a clean
environment, and a scratch links repository (git, a config, two channels connected in its
local workspace) as a team's would be."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent

CONFIG = """\
version: 1
channels:
  - account: acmepets
    display_name: Acme Pets (US)
    links:
      - title: Bio
        ref: bio_link
        message: Hi! I'd like to join the June giveaway.
      - title: Summer Sale
        ref: summer2025
        message: Hi! Tell me about the Summer Sale.
"""

Run = Callable[..., subprocess.CompletedProcess[str]]


def environment(**extra: str) -> dict[str, str]:
    """This environment without reconciler's and GitHub's variables, reconciler on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RECONCILER_", "SLEEKFLOW_", "GITHUB_", "_RECONCILER", "INPUT_"))
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``args`` run in ``cwd`` with ``environment(**env)``; never a traceback."""
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


def git_repo(root: Path) -> None:
    """Make ``root`` a git repository with everything in it committed."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "links as code"]):
        assert run([*git, *args], cwd=root).returncode == 0


def read_outputs(path: Path) -> dict[str, str]:
    """The step outputs written to a $GITHUB_OUTPUT file (both of GitHub's syntaxes)."""
    found: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        name, _, value = line.partition("=")
        if "<<" in name:
            name, delimiter = line.split("<<", 1)
            value = "\n".join(iter(lambda: next(lines), delimiter))
        found[name] = value
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A links repository: git, workspace.yaml, acmepets connected in .reconciler/."""
    root = tmp_path / "links"
    root.mkdir()
    (root / "workspace.yaml").write_text(CONFIG, encoding="utf-8")
    (root / ".gitignore").write_text(".reconciler/\n", encoding="utf-8")
    git_repo(root)
    connect = [
        BIN / "reconciler",
        "sandbox",
        "connect",
        "acmepets",
        "--display-name",
        "Acme Pets (US)",
    ]
    assert run(connect, cwd=root, RECONCILER_STORE=str(store(root))).returncode == 0
    return root


def store(root: Path) -> Path:
    """The local workspace of the links repository ``root``."""
    return root / ".reconciler" / "workspace.db"


@pytest.fixture
def ci(repo: Path) -> Run:
    """``reconciler ci ARGS`` in the links repository, on its local workspace."""

    def ci(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        env = {"RECONCILER_STORE": str(store(repo)), **env}
        return run([BIN / "reconciler", "ci", *args], cwd=repo, **env)

    return ci


@pytest.fixture
def reconciler(repo: Path) -> Run:
    """``reconciler ARGS`` in the links repository, on its local workspace."""

    def reconciler(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        env = {"RECONCILER_STORE": str(store(repo)), **env}
        return run([BIN / "reconciler", *args], cwd=repo, **env)

    return reconciler
