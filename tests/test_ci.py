"""The CI story: the workflow files (checked by actionlint), the script they call (run on a
scratch git repository against the local workspace, as docs/ci.md has a new user do), the
pre-commit hook, shell completion and --version."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import __version__
from reconciler.backends.local import LocalBackend
from tests.helpers import assert_valid_plan_json

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "ci" / "reconciler-ci.py"
EXAMPLE_WORKFLOW = ROOT / "docs" / "examples" / "reconciler.yml"
REPO_WORKFLOW = ROOT / ".github" / "workflows" / "reconciler.yml"
DOC = ROOT / "docs" / "ci.md"
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


def environment(**extra: str) -> dict[str, str]:
    """This environment without reconciler's and GitHub's variables, reconciler on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RECONCILER_", "SLEEKFLOW_", "GITHUB_", "_RECONCILER"))
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def run(args: list[str | Path], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
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
    return result


# --- actionlint over the workflows ----------------------------------------------------------------


def test_actionlint_passes_on_every_workflow() -> None:
    actionlint = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert actionlint, "actionlint is missing: pip install -e '.[test]'"
    files = [*sorted((ROOT / ".github" / "workflows").glob("*.yml")), EXAMPLE_WORKFLOW]
    assert REPO_WORKFLOW in files and len(files) >= 3
    # shellcheck (from the test extras) on PATH: actionlint checks every run: script with it.
    result = run([actionlint, "-verbose", *files], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Rule "shellcheck" was disabled' not in result.stderr


def _normalised(text: str) -> str:
    """A workflow without its leading comment block, and this repository's own values
    (examples/workspace.yaml, installed from the checkout) put back to the example's."""
    body = text[text.index("\nname: ") + 1 :]
    return (
        body.replace("- examples/workspace.yaml #", "- workspace.yaml #")
        .replace(
            "RECONCILER_CONFIG: examples/workspace.yaml\n", "RECONCILER_CONFIG: workspace.yaml\n"
        )
        .replace(
            "RECONCILER_INSTALL: .\n",
            "RECONCILER_INSTALL: reconciler @ git+https://github.com/YOUR-ORG/reconciler@v0.1.0\n",
        )
    )


def test_the_repository_runs_the_example_teams_copy() -> None:
    example = EXAMPLE_WORKFLOW.read_text(encoding="utf-8")
    ours = REPO_WORKFLOW.read_text(encoding="utf-8")
    assert ours != example
    assert _normalised(ours) == _normalised(example)


def _workflow() -> dict[Any, Any]:
    return yaml.safe_load(EXAMPLE_WORKFLOW.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _steps(job: str) -> list[dict[str, Any]]:
    return _workflow()["jobs"][job]["steps"]  # type: ignore[no-any-return]


def test_workflow_triggers_and_jobs() -> None:
    flow = _workflow()
    on = flow[True]  # YAML 1.1 reads the key "on" as true
    assert set(on) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]
    assert on["pull_request"]["paths"] == on["push"]["paths"]
    assert flow["env"]["RECONCILER_CONFIG"] == on["pull_request"]["paths"][0]
    assert flow["permissions"] == {}
    assert set(flow["jobs"]) == {"plan", "apply", "drift"}
    assert flow["jobs"]["apply"]["concurrency"]["cancel-in-progress"] is False


def test_the_api_key_is_only_in_the_environment_of_the_steps_that_need_it() -> None:
    flow = _workflow()
    text = EXAMPLE_WORKFLOW.read_text(encoding="utf-8")
    assert "SLEEKFLOW_API_KEY" not in json.dumps(flow["env"])
    users = []
    for name, job in flow["jobs"].items():
        for step in job["steps"]:
            assert "secrets." not in step.get("run", ""), step
            assert "SLEEKFLOW_API_KEY" not in step.get("run", ""), step
            if "SLEEKFLOW_API_KEY" in step.get("env", {}):
                assert step["env"]["SLEEKFLOW_API_KEY"] == "${{ secrets.SLEEKFLOW_API_KEY }}"
                users.append(name)
    assert sorted(users) == ["apply", "drift", "plan"]
    assert text.count("secrets.") == 3
    assert "set -x" not in text and "--api-key" not in text


def test_apply_on_merge_applies_the_saved_plan_and_opts_in_to_removals() -> None:
    (apply_step,) = [s for s in _steps("apply") if "reconciler-ci.py apply" in s.get("run", "")]
    assert '--plan "$RUNNER_TEMP/reviewed/plan.json"' in apply_step["run"]
    assert apply_step["env"]["RECONCILER_ALLOW_REMOVALS"] == "${{ vars.RECONCILER_ALLOW_REMOVALS }}"
    (fetch,) = [s for s in _steps("apply") if s.get("id") == "reviewed"]
    assert "gh run download" in fetch["run"] and "--name reconciler-plan" in fetch["run"]
    (upload,) = [s for s in _steps("plan") if s.get("uses", "").startswith("actions/upload")]
    assert upload["with"]["name"] == "reconciler-plan"


def test_the_comment_is_found_by_its_marker_and_updated() -> None:
    (post,) = [s for s in _steps("plan") if s.get("uses", "").startswith("actions/github-script")]
    script = post["with"]["script"]
    assert "body.split('\\n', 1)[0]" in script
    assert "c.body.startsWith(marker)" in script and "c.user.type === 'Bot'" in script
    assert "updateComment" in script and "createComment" in script


# --- the script on a scratch git repository ---------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A links repository: git, a config, the script, two connected channels locally."""
    root = tmp_path / "links"
    root.mkdir()
    (root / "workspace.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "ci").mkdir()
    shutil.copy(SCRIPT, root / "ci" / "reconciler-ci.py")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "links as code"]):
        assert run([*git, *args], cwd=root).returncode == 0
    assert ci(root, "sandbox").returncode == 0
    return root


def ci(root: Path, command: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python ci/reconciler-ci.py COMMAND ARGS`` in ``root`` on its local workspace (or,
    for "sandbox", connect acmepets there)."""
    env = {"RECONCILER_STORE": str(root / ".reconciler" / "workspace.db"), **env}
    if command == "sandbox":
        return run(
            [BIN / "reconciler", "sandbox", "connect", "acmepets", "--display-name",
             "Acme Pets (US)"],
            cwd=root, **env,
        )  # fmt: skip
    return run([sys.executable, "ci/reconciler-ci.py", command, *args], cwd=root, **env)


def head(root: Path) -> str:
    return run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()


def test_plan_writes_the_comment_and_the_saved_plan(repo: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = ci(repo, "plan", "workspace.yaml", "--out", "out", GITHUB_STEP_SUMMARY=str(summary))
    assert result.returncode == 2, result.stderr
    out = repo / "out"
    assert sorted(p.name for p in out.iterdir()) == ["comment.md", "plan.json", "plan.md"]
    comment = (out / "comment.md").read_text(encoding="utf-8")
    lines = comment.splitlines()
    assert lines[0] == "<!-- reconciler-plan: workspace.yaml -->"
    assert lines[1] == "**reconciler** — Plan: 2 to create."
    assert "### Acme Pets (US) (`acmepets`)" in comment
    assert f"at `{head(repo)[:12]}`" in lines[-1]
    assert "Merging applies exactly this plan" in lines[-1]
    plan_md = (out / "plan.md").read_text(encoding="utf-8")
    assert comment.startswith(lines[0] + "\n" + plan_md.rstrip("\n") + "\n")
    assert summary.read_text(encoding="utf-8") == plan_md
    saved = assert_valid_plan_json((out / "plan.json").read_text(encoding="utf-8"))
    assert saved["summary"]["create"] == 2 and "desired" in saved and "prior_state" in saved
    assert "apply it with" not in result.stderr  # in CI, the merge applies it


def test_plan_exit_codes_and_comments(repo: Path) -> None:
    # Nothing to change: 0.
    assert ci(repo, "plan", "workspace.yaml", "--out", "p1").returncode == 2
    assert ci(repo, "apply", "workspace.yaml", "--plan", "p1/plan.json").returncode == 0
    result = ci(repo, "plan", "workspace.yaml", "--out", "p2", "--commit", "abc123")
    assert result.returncode == 0, result.stderr
    comment = (repo / "p2" / "comment.md").read_text(encoding="utf-8")
    assert comment.splitlines()[1] == "**reconciler** — No changes."
    assert "at `abc123`. Nothing to apply." in comment
    # An invalid config: 1, and the comment has each problem with its position.
    (repo / "bad.yaml").write_text("version: 1\nchannels:\n  - acount: x\n", encoding="utf-8")
    result = ci(repo, "plan", "bad.yaml", "--out", "p3")
    assert result.returncode == 1
    comment = (repo / "p3" / "comment.md").read_text(encoding="utf-8")
    assert comment.splitlines()[:3] == [
        "<!-- reconciler-plan: bad.yaml -->",
        "**reconciler** — ❌ Could not plan `bad.yaml`.",
        "",
    ]
    assert "bad.yaml:3:" in comment and "```text" in comment
    assert "This plan cannot be applied" in comment.splitlines()[-1]
    assert not (repo / "p3" / "plan.json").exists()
    # A plan with an error (changes for a disconnected channel): 1, the plan in full.
    (repo / "more.yaml").write_text(CONFIG.replace("June", "July"), encoding="utf-8")
    store = str(repo / ".reconciler" / "workspace.db")
    disconnect = [BIN / "reconciler", "sandbox", "disconnect", "acmepets"]
    assert run(disconnect, cwd=repo, RECONCILER_STORE=store).returncode == 0
    result = ci(repo, "plan", "more.yaml", "--out", "p4")
    assert result.returncode == 1
    comment = (repo / "p4" / "comment.md").read_text(encoding="utf-8")
    assert "> [!CAUTION]" in comment and "`channel-disconnected`" in comment
    assert "**reconciler** — Plan: 1 to regenerate (NEW URL)." in comment


def test_the_http_backend_without_a_key_says_where_to_put_it(repo: Path) -> None:
    result = ci(
        repo, "plan", "workspace.yaml", "--out", "p",
        RECONCILER_BACKEND="http", SLEEKFLOW_API_URL="http://127.0.0.1:9",
    )  # fmt: skip
    assert result.returncode == 1
    comment = (repo / "p" / "comment.md").read_text(encoding="utf-8")
    assert "SLEEKFLOW_API_KEY is empty" in comment and "Secrets and variables" in comment


def test_apply_refuses_a_stale_plan_and_removals_without_opt_in(repo: Path) -> None:
    assert ci(repo, "plan", "workspace.yaml", "--out", "p").returncode == 2
    # The workspace moves after the review (a link made in the UI): refused, nothing changes.
    store = LocalBackend(repo / ".reconciler" / "workspace.db")
    try:
        channel = store.read().channel("acmepets")
        assert channel is not None
        store.create_link(channel.id, title="From the UI", ref=None, message="Hey", key="ui-1")
        before = store.read()
    finally:
        store.close()
    result = ci(repo, "apply", "workspace.yaml", "--plan", "p/plan.json", "--out", "a")
    assert result.returncode == 1
    report = (repo / "a" / "apply.md").read_text(encoding="utf-8")
    assert report.startswith("**reconciler** — ❌ The reviewed plan was not applied (or not")
    assert "the plan is stale" in report
    store = LocalBackend(repo / ".reconciler" / "workspace.db")
    try:
        assert store.read() == before
    finally:
        store.close()
    # A fresh plan removes the UI's link: refused unless the team opted in.
    assert ci(repo, "plan", "workspace.yaml", "--out", "p2").returncode == 2
    result = ci(repo, "apply", "workspace.yaml", "--plan", "p2/plan.json", "--out", "a2")
    assert result.returncode == 1
    report = (repo / "a2" / "apply.md").read_text(encoding="utf-8")
    assert "--allow-removals" in report and "RECONCILER_ALLOW_REMOVALS" in report
    result = ci(
        repo, "apply", "workspace.yaml", "--plan", "p2/plan.json", "--out", "a3",
        RECONCILER_ALLOW_REMOVALS="true",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = (repo / "a3" / "apply.md").read_text(encoding="utf-8")
    assert report.startswith("**reconciler** — applied the reviewed plan.")
    assert "Apply complete: 3 changes applied." in report
    assert "Apply complete" in result.stdout  # and in the job's log


def test_apply_refuses_a_config_that_changed_since_the_plan(repo: Path) -> None:
    assert ci(repo, "plan", "workspace.yaml", "--out", "p").returncode == 2
    config = repo / "workspace.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    result = ci(repo, "apply", "workspace.yaml", "--plan", "p/plan.json", "--out", "a")
    assert result.returncode == 1
    assert "sha256 differs" in (repo / "a" / "apply.md").read_text(encoding="utf-8")


def test_apply_without_a_reviewed_plan(repo: Path) -> None:
    result = ci(repo, "apply", "workspace.yaml", "--plan", "missing/plan.json", "--out", "a")
    assert result.returncode == 1
    assert "No reviewed plan at missing/plan.json" in (repo / "a" / "apply.md").read_text(
        encoding="utf-8"
    )


def test_drift(repo: Path) -> None:
    assert ci(repo, "plan", "workspace.yaml", "--out", "p").returncode == 2
    assert ci(repo, "apply", "workspace.yaml", "--plan", "p/plan.json").returncode == 0
    assert ci(repo, "drift", "workspace.yaml", "--out", "d").returncode == 0
    body = (repo / "d" / "drift.md").read_text(encoding="utf-8")
    assert body.splitlines() == [
        "<!-- reconciler-drift: workspace.yaml -->",
        "**reconciler** — no drift: the workspace matches `workspace.yaml`.",
    ]
    # Someone edits a link in the UI: drift, exit 2, the issue body shows what changed.
    store = LocalBackend(repo / ".reconciler" / "workspace.db")
    try:
        channel = store.read().channel("acmepets")
        assert channel is not None
        bio = next(lk for lk in channel.links if lk.title == "Bio")
        store.update_link(
            channel.id, bio.id, title=bio.title, ref=bio.ref, message="Edited", version=bio.version
        )
    finally:
        store.close()
    result = ci(repo, "drift", "workspace.yaml", "--out", "d")
    assert result.returncode == 2
    body = (repo / "d" / "drift.md").read_text(encoding="utf-8")
    assert body.startswith("<!-- reconciler-drift: workspace.yaml -->\n**Drift:** the workspace")
    assert "**reconciler** — Plan: 1 to regenerate (NEW URL)." in body
    # A disconnected channel fails the night even with nothing to change.
    assert ci(repo, "apply", "workspace.yaml", "--plan", "d/plan.json").returncode == 0
    disconnect = run(
        [BIN / "reconciler", "sandbox", "disconnect", "acmepets"],
        cwd=repo, RECONCILER_STORE=str(repo / ".reconciler" / "workspace.db"),
    )  # fmt: skip
    assert disconnect.returncode == 0
    result = ci(repo, "drift", "workspace.yaml", "--out", "d")
    assert result.returncode == 1
    body = (repo / "d" / "drift.md").read_text(encoding="utf-8")
    assert "found errors. Disconnected: `acmepets`." in body


def test_the_docs_local_trial_runs_as_written(tmp_path: Path) -> None:
    """docs/ci.md step 6, run as a new user would: from a clone of reconciler, in bash."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- tests/test_ci.py runs this block as it is -->")
    match = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert match is not None
    result = run(["bash", "-c", match.group(1)], cwd=ROOT, TMPDIR=str(tmp_path))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "plan: exit code 2" in out
    assert "<!-- reconciler-plan: workspace.yaml -->\n**reconciler** — Plan: 8 to create." in out
    assert "apply: exit code 0" in out
    assert "apply again: exit code 1 (refused: the plan is stale)" in out
    assert out.count("drift: exit code") == 2
    assert "drift: exit code 0" in out and "drift: exit code 2" in out
    assert "the plan is stale" in result.stderr


# --- pre-commit, completion, version ------------------------------------------------------------


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
    entry = [*_shell_split(hook["entry"])]
    assert entry == ["reconciler", "validate"]
    entry[0] = str(BIN / "reconciler")
    ok = run([*entry, good], cwd=tmp_path)
    assert ok.returncode == 0 and f"{good}: valid" in ok.stdout
    both = run([*entry, bad, good], cwd=tmp_path)
    assert both.returncode == 1
    assert f"{bad}:1:" in both.stderr and f"{good}: valid" in both.stdout


def _shell_split(entry: str) -> list[str]:
    import shlex

    return shlex.split(entry)


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


def test_version() -> None:
    result = run([BIN / "reconciler", "--version"], cwd=ROOT)
    assert result.returncode == 0
    assert result.stdout == f"reconciler, version {__version__}\n"
