"""Data never becomes a GitHub Actions workflow command in a job's log.

The runner reads every line a step writes (stdout and stderr) for commands: ``::name::`` at
the start of a line, and the legacy ``##[name]`` *anywhere* in a line (``set-output``,
``add-mask``, ``stop-commands``, ``error``...). A title, message or display name made in
SleekFlow's UI reaches the log through the plan, the apply report, ``links``, ``history``,
``status`` and the refusals; a marketer's title such as ``##[stop-commands]x`` would switch
off the job's annotations, ``##[set-output name=has-changes;]false`` would rewrite a step
output. Every such text shows ``##[`` as ``##\\u005b``, as it shows a control character
as its escape; no line starts with ``::`` unless it is one of reconciler's own annotations.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.backends.local import LocalBackend
from tests.ci.conftest import Run, store

#: What hostile UI data carries: each would be a workflow command in a log line.
COMMANDS = (
    "##[set-output name=has-changes;]false",
    "x ##[stop-commands]tok",
    "##[add-mask]https",
)
DISPLAY_NAME = "Acme ##[error]boom"


@pytest.fixture
def hostile(repo: Path) -> Path:
    """The links repository's workspace with links made in the UI whose titles and messages
    carry workflow commands, and a display name that does."""
    backend = LocalBackend(store(repo))
    try:
        channel = backend.read().channels[0]
        backend.rename_channel(channel.id, DISPLAY_NAME, version=channel.version)
        for n, text in enumerate(COMMANDS):
            backend.create_link(
                channel.id, title=f"{text} {n}", ref=None, message=f"{text} said", key=f"h{n}"
            )
    finally:
        backend.close()
    return repo


def assert_no_command(output: str) -> None:
    assert "##[" not in output, output
    for line in output.splitlines():
        assert not line.lstrip().startswith("::") or line.startswith("::error file="), line


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "workspace.yaml"],
        ["links"],
        ["history"],
        ["status"],
        ["apply", "workspace.yaml", "--auto-approve"],  # refused: removals, each named
    ],
)
def test_commands_print_no_workflow_command_from_data(
    hostile: Path, reconciler: Run, args: list[str]
) -> None:
    result = reconciler(*args)
    assert "##\\u005b" in result.stdout + result.stderr  # the data is shown, escaped
    assert_no_command(result.stdout + result.stderr)


def test_ci_apply_logs_no_workflow_command_from_data(hostile: Path, ci: Run) -> None:
    planned = ci("plan", "workspace.yaml", "--out", "plans")
    assert planned.returncode == 2, planned.stderr
    assert_no_command(planned.stdout + planned.stderr)
    applied = ci(
        "apply", "workspace.yaml", "--plans", "plans", "--out", "out", "--allow-removals"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "stop-commands" in applied.stdout  # the removals, in the log
    assert_no_command(applied.stdout + applied.stderr)


@pytest.mark.parametrize(
    "args", [["plan", "workspace.yaml", "--format", "json"], ["links", "--format", "json"]]
)
def test_json_in_a_log_carries_no_workflow_command_and_reads_back_exactly(
    hostile: Path, reconciler: Run, args: list[str]
) -> None:
    """JSON to a pipe is exact data: '##[' is written '##\\u005b', the same string to any
    JSON reader, and no command to the runner."""
    result = reconciler(*args)
    assert result.returncode == 0, result.stderr
    assert_no_command(result.stdout)
    assert all(text in result.stdout.replace("\\u005b", "[") for text in COMMANDS)
    assert "##[set-output name=has-changes;]false said" in json.dumps(json.loads(result.stdout))


def test_a_refusal_in_ci_apply_logs_no_workflow_command_from_data(hostile: Path, ci: Run) -> None:
    """The stale plan's refusal names what moved, old and new message: data, escaped in
    the job's log as in any output (it was printed raw)."""
    assert ci("plan", "workspace.yaml", "--out", "plans").returncode == 2
    backend = LocalBackend(store(hostile))
    try:
        channel = backend.read().channels[0]
        moved = channel.links[0]
        backend.update_link(
            channel.id, moved.id, title=moved.title, ref=None,
            message="##[set-output name=exitcode;]0", version=moved.version,
        )  # fmt: skip
    finally:
        backend.close()
    refused = ci("apply", "workspace.yaml", "--plans", "plans", "--out", "out")
    assert refused.returncode == 1
    assert "the plan is stale" in refused.stdout
    assert "##\\u005bset-output name=exitcode;]0" in refused.stdout
    assert_no_command(refused.stdout + refused.stderr)
