"""``action.yml``: held to the action metadata rules, and run, step by step, on a scratch
links repository as a runner would run it (its shell steps with the environment GitHub
gives them; ``uses:`` steps, which only set up Python, are left out)."""

from __future__ import annotations

import re
import shlex
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import __version__
from reconciler.ci import OUTPUTS
from tests.ci.conftest import ROOT, environment, read_outputs, run, store

ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
OUTPUT_LINE = re.compile(r"""echo\s+"([A-Za-z0-9_-]+)(?:=|<<)[^"]*"\s*>>\s*"\$GITHUB_OUTPUT\"""")


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def step_sets(step: dict[str, Any]) -> set[str]:
    """The outputs a run step sets: each ``echo "NAME=..." >> "$GITHUB_OUTPUT"`` of its
    script, and those ``reconciler ci`` sets itself (``reconciler.ci.OUTPUTS``)."""
    script = step.get("run", "")
    found = set(OUTPUT_LINE.findall(script))
    if re.search(r"^\s*reconciler ci ", script, re.M):
        found.update(OUTPUTS)
    return found


# --- the action metadata rules ----------------------------------------------------------------


def test_the_action_has_the_keys_github_requires() -> None:
    data = action()
    assert {"name", "description", "runs"} <= set(data)
    assert data["runs"]["using"] == "composite"
    for name, spec in data["inputs"].items():
        assert spec.get("description"), f"input {name} has no description"
        assert "required" in spec, f"input {name}: say whether it is required"
        assert spec["required"] or "default" in spec, f"optional input {name} has no default"
    for name, spec in data["outputs"].items():
        assert spec.get("description") and spec.get("value"), f"output {name}"
    assert {"config", "command", "version", "comment", "allow-removals"} <= set(data["inputs"])
    assert {"exitcode", "has-changes", "plan-file", "comment-file"} <= set(data["outputs"])


def test_every_input_used_is_declared_and_every_declared_input_is_used() -> None:
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text))
    assert used == set(action()["inputs"])


def test_every_output_is_set_by_a_step_that_exists() -> None:
    data = action()
    steps = {s["id"]: s for s in data["runs"]["steps"] if "id" in s}
    for name, spec in data["outputs"].items():
        match = re.fullmatch(
            r"\$\{\{ steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+) \}\}", spec["value"]
        )
        assert match, f"output {name}: {spec['value']}"
        step, output = match.groups()
        assert step in steps, f"output {name}: no step {step}"
        assert output in step_sets(steps[step]), f"output {name}: step {step} doesn't set {output}"


def test_each_step_is_a_run_step_with_a_shell_or_uses_an_action() -> None:
    for step in action()["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step["shell"] == "bash", step
            # Inputs reach a script through env only: an expression in it would be pasted
            # into the script (script injection).
            assert "${{" not in step["run"], step["name"]
        else:
            assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), step


def test_the_default_version_is_this_one_and_keys_are_never_inputs() -> None:
    data = action()
    assert data["inputs"]["version"]["default"] == __version__
    text = ACTION.read_text(encoding="utf-8")
    assert "secrets." not in text
    assert not [name for name in data["inputs"] if "key" in name]
    assert "set -x" not in text


def test_the_output_line_pattern_finds_what_it_should() -> None:
    assert step_sets(
        {"run": 'echo "a-b=$x" >> "$GITHUB_OUTPUT"\necho "c<<EOF" >> "$GITHUB_OUTPUT"'}
    ) == {"a-b", "c"}
    assert step_sets({"run": 'echo "x=1" >> out'}) == set()


# --- the action's steps, run ------------------------------------------------------------------


class Text(str):
    """A string as GitHub's expressions compare them: ignoring case."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and self.lower() == other.lower()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.lower())


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """A GitHub expression of the kinds action.yml uses: context lookups, '...' strings,
    ==, !=, &&, ||, !, parentheses (== ignores case, as GitHub's does)."""
    tokens = re.findall(r"'(?:[^']|'')*'|[A-Za-z_][\w.-]*|==|!=|&&|\|\||!|\(|\)|\S", expression)
    python = []
    for token in tokens:
        if token.startswith("'"):
            literal = token[1:-1].replace("''", "'")
            python.append(f"Text({literal!r})")
        elif token in {"true", "false"}:
            python.append(repr(token == "true"))
        elif re.fullmatch(r"[A-Za-z_][\w.-]*", token):
            value: Any = context
            for part in token.split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            python.append(f"Text({str(value)!r})")
        else:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(token, token))
    return eval(" ".join(python), {"__builtins__": {}, "Text": Text})  # a test's own expressions


def substitute(text: str, context: dict[str, Any]) -> str:
    return EXPRESSION.sub(lambda m: str(evaluate(m.group(1), context)), text)


def run_action(
    repo: Path,
    tmp: Path,
    inputs: dict[str, str],
    *,
    env: dict[str, str] | None = None,
    github: dict[str, Any] | None = None,
) -> tuple[dict[str, str], list[str], str]:
    """Run the action's shell steps in ``repo`` as a runner would: each script with
    ``bash --noprofile --norc -eo pipefail``, the env its step gives, GITHUB_OUTPUT,
    GITHUB_STEP_SUMMARY; ``if:`` evaluated. Returns its outputs, the names of the steps that
    ran, and their combined log; a step that fails stops the run, as on GitHub."""
    data = action()
    given = {name: spec.get("default", "") for name, spec in data["inputs"].items()}
    context: dict[str, Any] = {
        "github": {
            "repository": "acme/links",
            "sha": "0" * 40,
            "token": "ghs_t0ken",
            "event": {},
            **(github or {}),
        }
    }
    context["inputs"] = {}
    for name, default in given.items():
        context["inputs"][name] = inputs.get(name, substitute(str(default), context))
    context["steps"] = {}
    summary = tmp / "summary.md"
    ran: list[str] = []
    log = []
    for index, step in enumerate(data["runs"]["steps"]):
        if "if" in step and not evaluate(step["if"], context):
            continue
        if "uses" in step:
            continue  # actions/setup-python: this test's Python is set up
        output = tmp / f"output-{index}"
        output.touch()
        script = tmp / f"step-{index}.sh"
        script.write_text(step["run"], encoding="utf-8")
        step_env = {k: substitute(str(v), context) for k, v in step.get("env", {}).items()}
        cwd = repo / substitute(step.get("working-directory", "."), context)
        result = run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
            cwd=cwd,
            **{**(env or {}), **step_env},
            GITHUB_OUTPUT=str(output),
            GITHUB_STEP_SUMMARY=str(summary),
            RUNNER_TEMP=str(tmp / "runner-temp"),
        )
        ran.append(substitute(step["name"], context))
        log.append(result.stdout + result.stderr)
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": read_outputs(output)}
        if result.returncode != 0:
            break
    outputs = {name: substitute(spec["value"], context) for name, spec in data["outputs"].items()}
    return outputs, ran, "".join(log)


def test_the_expression_evaluator() -> None:
    context = {"inputs": {"a": "true", "b": ""}, "github": {"x": "1"}}
    assert evaluate("inputs.a == 'true' && inputs.b != ''", context) is False
    assert evaluate("inputs.b || github.x", context) == "1"
    assert evaluate("!(inputs.b != '') && (inputs.a == 'TRUE')", context) is True
    assert substitute("${{ inputs.a }}-${{ github.x }}", context) == "true-1"


def test_the_plan_step_writes_the_comment_and_the_outputs(repo: Path, tmp_path: Path) -> None:
    db = {"RECONCILER_STORE": str(store(repo))}
    outputs, ran, log = run_action(
        repo,
        tmp_path,
        {"command": "plan", "config": "workspace.yaml", "version": "installed"},
        env=db,
    )
    assert ran == ["Install reconciler", "reconciler ci plan"]
    assert f"reconciler, version {__version__}" in log
    assert outputs["exitcode"] == "2" and outputs["has-changes"] == "true"
    out = tmp_path / "runner-temp" / "reconciler-plan"
    assert outputs["out-dir"] == str(out)
    comment = Path(outputs["comment-file"])
    assert comment == out / "workspace" / "comment.md"
    assert comment.read_text(encoding="utf-8").startswith(
        "<!-- reconciler-plan: workspace.yaml -->\n"
    )
    assert Path(outputs["plan-file"]) == out / "workspace" / "plan.json"
    assert "Plan: 2 to create." in (tmp_path / "summary.md").read_text(encoding="utf-8")
    # The reviewed plan, applied by the action's apply; then no drift.
    outputs, ran, log = run_action(
        repo, tmp_path, {"command": "apply", "config": "workspace.yaml", "version": "installed",
                         "plans": str(out)}, env=db,
    )  # fmt: skip
    assert outputs["exitcode"] == "0", log
    assert outputs["has-changes"] == "true"
    assert "Apply complete: 2 changes applied." in log
    page = Path(outputs["links-page"])
    assert page.name == "links.html" and page.parent.parent == Path(outputs["out-dir"])
    assert page.read_text(encoding="utf-8").count('<article class="link"') == 2
    outputs, ran, log = run_action(
        repo,
        tmp_path,
        {"command": "drift", "config": "workspace.yaml", "version": "installed"},
        env=db,
    )
    assert outputs["exitcode"] == "0" and outputs["has-changes"] == "false", log
    assert Path(outputs["comment-file"]).name == "drift.md"


def test_an_invalid_config_fails_the_action_with_annotations(repo: Path, tmp_path: Path) -> None:
    (repo / "bad.yaml").write_text("version: 1\nchannels:\n  - acount: x\n", encoding="utf-8")
    outputs, ran, log = run_action(
        repo,
        tmp_path,
        {"command": "plan", "config": "bad.yaml", "version": "installed"},
        env={"RECONCILER_STORE": str(store(repo))},
    )
    assert outputs["exitcode"] == "1"
    assert ran[-1] == "Fail on errors"
    assert "::error file=bad.yaml,line=3," in log


FAKE_GH = """#!/bin/bash
# gh, as the comment step calls it: lists comments (answering $FAKE_ID), creates or updates one.
printf '%s\\n' "$*" >> "$GH_LOG"
printf 'token=%s marker=%s\\n' "$GH_TOKEN" "${MARKER:-}" >> "$GH_LOG"
case "$*" in
  *--paginate*) [ -z "${FAKE_ID:-}" ] || printf '%s\\n' "$FAKE_ID" ;;
  *) echo "done https://github.com/acme/links/pull/7#issuecomment-1" ;;
esac
"""


@pytest.mark.parametrize(("existing", "method"), [("", "POST"), ("4242", "PATCH")])
def test_the_comment_is_found_by_its_marker_and_updated_or_created(
    repo: Path, tmp_path: Path, existing: str, method: str
) -> None:
    """The comment step with a stand-in for gh (no network in tests): the list call carries
    the marker, and the comment is created, or updated when one has that marker."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH, encoding="utf-8")
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    gh_log = tmp_path / "gh.log"
    env = {
        "RECONCILER_STORE": str(store(repo)),
        "PATH": f"{bin_dir}:{environment()['PATH']}",
        "GH_LOG": str(gh_log),
        "FAKE_ID": existing,
    }
    outputs, ran, log = run_action(
        repo, tmp_path,
        {"command": "plan", "config": "workspace.yaml", "version": "installed", "comment": "true"},
        env=env, github={"event": {"pull_request": {"number": 7, "head": {"sha": "ab" * 20}}}},
    )  # fmt: skip
    assert ran == ["Install reconciler", "reconciler ci plan", "Comment on the pull request"]
    calls = gh_log.read_text(encoding="utf-8").splitlines()
    assert calls[0].startswith("api --paginate repos/acme/links/issues/7/comments --jq ")
    assert calls[1] == "token=ghs_t0ken marker=<!-- reconciler-plan: workspace.yaml -->"
    body = f"-F body=@{outputs['comment-file']}"
    if method == "PATCH":
        assert calls[2].startswith(
            f"api --method PATCH repos/acme/links/issues/comments/4242 {body}"
        )
    else:
        assert calls[2].startswith(f"api --method POST repos/acme/links/issues/7/comments {body}")
    assert "ghs_t0ken" not in log
    comment = Path(outputs["comment-file"]).read_text(encoding="utf-8")
    assert f"at `{'ab' * 6}`" in comment  # the pull request's head commit


def test_the_shell_steps_pass_shellcheck(tmp_path: Path) -> None:
    for index, step in enumerate(action()["runs"]["steps"]):
        if "run" in step:
            script = tmp_path / f"step-{index}.sh"
            script.write_text("#!/bin/bash\n" + step["run"], encoding="utf-8")
            result = run(["shellcheck", "--shell=bash", script], cwd=tmp_path)
            assert result.returncode == 0, shlex.join([step["name"]]) + result.stdout
