"""docs/ci.md, run as a new user would: its local trial as written, and what it promises
about the action and the package name."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.ci.conftest import ROOT, run

DOC = ROOT / "docs" / "ci.md"


def test_the_docs_local_trial_runs_as_written(tmp_path: Path) -> None:
    """docs/ci.md step 5, run from a clone of reconciler, in bash."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- tests/ci/test_docs.py runs this block as it is -->")
    match = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert match is not None
    result = run(["bash", "-c", match.group(1)], cwd=ROOT, TMPDIR=str(tmp_path))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "plan: exit code 2" in out
    assert "<!-- reconciler-plan: workspace.yaml -->\n" in out
    assert "Plan: 8 to create." in out
    assert "apply: exit code 0" in out
    assert "apply again: exit code 1 (refused: the plan is stale)" in out
    assert out.count("drift: exit code") == 2
    assert "drift: exit code 0" in out and "drift: exit code 2" in out


def test_the_docs_name_every_input_and_output_of_the_action() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    text = DOC.read_text(encoding="utf-8")
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in text, name


def test_the_package_is_installed_by_its_distribution_name() -> None:
    for path in (ROOT / "README.md", DOC):
        text = path.read_text(encoding="utf-8")
        assert "sleekflow-reconciler" in text, path
        # The index's "reconciler" is another project: never installed by that name.
        assert not re.search(r"pip install [\"']?reconciler\b|(?<![-\w])reconciler==", text), path
        assert "git+https" not in text, path
    assert "sleekflow-reconciler==" in (ROOT / "action.yml").read_text(encoding="utf-8")
