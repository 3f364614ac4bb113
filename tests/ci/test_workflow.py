"""The shipped workflow (docs/examples/reconciler.yml) and this repository's copy of it:
actionlint (with shellcheck) over every workflow and the action, the copy in step with the
example, and what the workflow must do: a matrix over configs, the action at each step, the
keys only where they are needed, apply and drift one at a time per config."""

from __future__ import annotations

import json
import os
import re
import shutil
from typing import Any

import yaml

from tests.ci.conftest import BIN, ROOT, run

EXAMPLE_WORKFLOW = ROOT / "docs" / "examples" / "reconciler.yml"
REPO_WORKFLOW = ROOT / ".github" / "workflows" / "reconciler.yml"
PUBLISHED = "YOUR-ORG/reconciler@v0.1.0"


def test_actionlint_passes_on_every_workflow() -> None:
    actionlint = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert actionlint, "actionlint is missing: pip install -e '.[test]'"
    files = [*sorted((ROOT / ".github" / "workflows").glob("*.yml")), EXAMPLE_WORKFLOW]
    assert REPO_WORKFLOW in files and len(files) >= 3
    # shellcheck (from the test extras) on PATH: actionlint checks every run: script with it,
    # and reads action.yml for the inputs of `uses: ./`.
    result = run([actionlint, "-verbose", *files], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Rule "shellcheck" was disabled' not in result.stderr


def _normalised(text: str) -> str:
    """A workflow without its leading comment block, and this repository's own values (its
    example config, the action and reconciler from the checkout) put back to the example's."""
    body = text[text.index("\nname: ") + 1 :]
    return (
        body.replace("- examples/workspace.yaml #", "- links/*.yaml #")
        .replace("      - action.yml\n", "")
        .replace(
            "          - { name: example, config: examples/workspace.yaml }\n",
            "          - { name: us, config: links/us.yaml }\n"
            "          - { name: global, config: links/global.yaml }\n",
        )
        .replace(
            "uses: ./\n        with:\n          version: .\n", f"uses: {PUBLISHED}\n        with:\n"
        )
    )


def test_the_repository_runs_the_example_teams_copy() -> None:
    example = EXAMPLE_WORKFLOW.read_text(encoding="utf-8")
    ours = REPO_WORKFLOW.read_text(encoding="utf-8")
    assert ours != example
    assert _normalised(ours) == _normalised(example) == example[example.index("\nname: ") + 1 :]
    assert ours.count("uses: ./\n") == 3 and example.count(f"uses: {PUBLISHED}\n") == 3


def _workflow() -> dict[Any, Any]:
    return yaml.safe_load(EXAMPLE_WORKFLOW.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _steps(job: str) -> list[dict[str, Any]]:
    return _workflow()["jobs"][job]["steps"]  # type: ignore[no-any-return]


def _action_step(job: str) -> dict[str, Any]:
    (step,) = [s for s in _steps(job) if s.get("uses") == PUBLISHED]
    return step


def test_workflow_triggers_jobs_and_the_matrix_over_configs() -> None:
    flow = _workflow()
    on = flow[True]  # YAML 1.1 reads the key "on" as true
    assert set(on) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    assert on["push"]["branches"] == ["main"]
    assert on["pull_request"]["paths"] == on["push"]["paths"]
    assert flow["permissions"] == {}
    assert set(flow["jobs"]) == {"plan", "apply", "drift"}
    configs = [job["strategy"]["matrix"]["include"] for job in flow["jobs"].values()]
    assert configs[0] == configs[1] == configs[2] and len(configs[0]) >= 2
    names = [entry["name"] for entry in configs[0]]
    assert len(set(names)) == len(names)
    for job in ("plan", "apply", "drift"):
        assert _action_step(job)["with"]["config"] == "${{ matrix.config }}"
        assert _action_step(job)["with"]["command"] == job


def test_apply_and_drift_of_a_config_run_one_at_a_time() -> None:
    jobs = _workflow()["jobs"]
    assert jobs["apply"]["concurrency"] == jobs["drift"]["concurrency"]
    assert "matrix.name" in jobs["apply"]["concurrency"]["group"]
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert "matrix.name" in jobs["plan"]["concurrency"]["group"]


def test_the_keys_are_only_in_the_environment_of_the_steps_that_need_them() -> None:
    flow = _workflow()
    text = EXAMPLE_WORKFLOW.read_text(encoding="utf-8")
    assert "SLEEKFLOW_API_KEY" not in json.dumps(flow["env"])
    users: dict[str, list[str]] = {"SLEEKFLOW_API_KEY": [], "RECONCILER_PLAN_KEY": []}
    for name, job in flow["jobs"].items():
        for step in job["steps"]:
            assert "secrets." not in step.get("run", ""), step
            assert "secrets." not in json.dumps(step.get("with", {})), step
            for key, jobs in users.items():
                assert key not in step.get("run", ""), step
                if key in step.get("env", {}):
                    assert step["env"][key] == f"${{{{ secrets.{key} }}}}"
                    jobs.append(name)
    assert sorted(users["SLEEKFLOW_API_KEY"]) == ["apply", "drift", "plan"]
    assert sorted(users["RECONCILER_PLAN_KEY"]) == ["apply", "plan"]
    assert text.count("secrets.") == 5
    assert "set -x" not in text and "--api-key" not in text


def test_each_config_has_its_artifact_and_apply_applies_it() -> None:
    (upload,) = [s for s in _steps("plan") if s.get("uses", "").startswith("actions/upload")]
    assert upload["with"]["name"] == "reconciler-plan-${{ matrix.name }}"
    assert upload["with"]["path"] == "${{ steps.plan.outputs.out-dir }}"
    assert _action_step("plan")["with"]["comment"] is True
    (fetch,) = [s for s in _steps("apply") if s.get("id") == "reviewed"]
    assert fetch["env"]["ARTIFACT"] == upload["with"]["name"]
    assert 'gh run download "$run_id" --name "$ARTIFACT"' in fetch["run"]
    apply = _action_step("apply")["with"]
    assert apply["plans"] == "${{ runner.temp }}/reviewed"
    assert apply["allow-removals"] == "${{ vars.RECONCILER_ALLOW_REMOVALS == 'true' }}"
    assert apply["pr-number"] == "${{ steps.reviewed.outputs.pr }}"


def test_every_apply_publishes_the_page_of_links_and_links_it_from_the_summary() -> None:
    steps = _steps("apply")
    ids = [s.get("id") for s in steps]
    assert ids.index("apply") < ids.index("page")
    (upload,) = [s for s in steps if s.get("id") == "page"]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == "reconciler-links-${{ matrix.name }}"
    assert upload["with"]["path"] == "${{ steps.apply.outputs.links-page }}"
    # after every apply that wrote one, a failed one included
    assert upload["if"] == "${{ !cancelled() && steps.apply.outputs.links-page != '' }}"
    (summary,) = [s for s in steps if s.get("name") == "Link the page from the job summary"]
    assert summary["env"]["PAGE_URL"] == "${{ steps.page.outputs.artifact-url }}"
    assert '[Download links.html]($PAGE_URL)' in summary["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]


def test_the_drift_issue_is_found_by_its_marker() -> None:
    (issue,) = [s for s in _steps("drift") if s.get("uses", "").startswith("actions/github-script")]
    assert issue["env"]["DRIFT_FILE"] == "${{ steps.drift.outputs.comment-file }}"
    script = issue["with"]["script"]
    assert "body.split('\\n', 1)[0]" in script and ".startsWith(marker)" in script
    assert re.search(r"i\.user\.type === 'Bot'", script)
