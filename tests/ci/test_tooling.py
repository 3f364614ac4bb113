"""What a team meets around CI: the pre-commit hook, shell completion, --version."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from reconciler import __version__
from tests.ci.conftest import BIN, CONFIG, ROOT, run

DOC = ROOT / "docs" / "ci.md"


def test_the_pre_commit_hook_validates_each_file(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "reconciler-validate" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("workspace.yaml") and files.search("examples/workspace.yaml")
    assert files.search("links/workspace-prod.yml")
    assert not files.search(".github/workflows/reconciler.yml")
    assert not files.search(".pre-commit-config.yaml")
    # The entry is a real command: run it as pre-commit would, with file names appended.
    good = tmp_path / "workspace.yaml"
    good.write_text(CONFIG, encoding="utf-8")
    bad = tmp_path / "workspace-bad.yaml"
    bad.write_text("version: 2\nchannels: []\n", encoding="utf-8")
    entry = shlex.split(hook["entry"])
    assert entry == ["reconciler", "validate"]
    entry[0] = str(BIN / "reconciler")
    ok = run([*entry, good], cwd=tmp_path)
    assert ok.returncode == 0 and f"{good}: valid" in ok.stdout
    both = run([*entry, bad, good], cwd=tmp_path)
    assert both.returncode == 1
    assert f"{bad}:1:" in both.stderr and f"{good}: valid" in both.stdout


@pytest.mark.parametrize(
    ("shell", "expected"),
    [("bash", "_reconciler_completion()"), ("zsh", "#compdef reconciler"), ("fish", "complete")],
)
def test_shell_completion(shell: str, expected: str) -> None:
    result = run([BIN / "reconciler"], cwd=ROOT, _RECONCILER_COMPLETE=f"{shell}_source")
    assert result.returncode == 0 and expected in result.stdout
    assert f"_RECONCILER_COMPLETE={shell}_source reconciler" in DOC.read_text(encoding="utf-8")


def test_completion_completes_commands_and_options() -> None:
    def complete(words: str, cword: int) -> list[str]:
        result = run(
            [BIN / "reconciler"], cwd=ROOT,
            _RECONCILER_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(cword),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert complete("reconciler pl", 1) == ["plain,plan"]
    assert "plain,--detailed-exitcode" in complete("reconciler plan --det", 2)
    assert complete("reconciler ci dr", 2) == ["plain,drift"]


def test_version() -> None:
    result = run([BIN / "reconciler", "--version"], cwd=ROOT)
    assert result.returncode == 0
    assert result.stdout == f"reconciler, version {__version__}\n"
