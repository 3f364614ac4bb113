"""``apply --plan`` does exactly what was reviewed, through the command line on real stores:
a plan file edited to widen it is refused field by field (with and without a plan key), a
plan of one store is refused on a byte-for-byte copy of it, and every output names the
workspace it is about."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.runners import VIP, Cli, edit_vip, example, link_of

KEY = "plan-key-7c1e-never-printed"
Edit = Callable[[dict[str, Any]], None]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def reviewed_plan(run: Cli, *, env: dict[str, str | None] | None = None) -> Path:
    """The example applied, VIP's message edited, and that plan saved (the review)."""
    edit_vip(run)
    saved = run.tmp / "reviewed.json"
    run("plan", run.config, "--out", saved, env=env)
    return saved


def widen_desired(data: dict[str, Any]) -> None:
    """Three more regenerations in the recorded desired state and its changes' places."""
    for link in data["desired"]["channels"][0]["links"]:
        link["message"] += " (widened)"


def tampered(saved: Path, edit: Edit) -> Path:
    data = json.loads(saved.read_text(encoding="utf-8"))
    edit(data)
    out = saved.with_name("tampered.json")
    out.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return out


EDITS: dict[str, Edit] = {
    "forced": lambda d: d.update(forced=True),
    "desired": widen_desired,
    "changes": lambda d: d["changes"].append(dict(d["changes"][0], title="Another")),
    "sha256": lambda d: (widen_desired(d), d.update(config_sha256="0" * 64)),
    "workspace": lambda d: d["workspace"].update(id="another-workspace"),
    "signature": lambda d: d.update(signature="0" * 64),
}


@pytest.mark.parametrize("field", sorted(EDITS))
def test_a_widened_signed_plan_is_refused_and_changes_nothing(applied: Cli, field: str) -> None:
    run = applied
    env: dict[str, str | None] = {"RECONCILER_PLAN_KEY": KEY}
    saved = reviewed_plan(run, env=env)
    assert KEY not in saved.read_text(encoding="utf-8")
    before = digest(run.store)
    refused = run(
        "apply", "--plan", tampered(saved, EDITS[field]), run.config, "--auto-approve",
        code=1, env=env,
    )  # fmt: skip
    assert KEY not in refused.output
    assert "nothing was changed" in refused.stderr.lower()
    assert digest(run.store) == before
    # the plan as reviewed applies
    run("apply", "--plan", saved, run.config, env=env)
    assert run.links()[VIP].message == "Join our VIP program now"


@pytest.mark.parametrize("field", ["forced", "desired", "changes", "sha256"])
def test_without_a_key_a_widened_plan_is_still_refused(applied: Cli, field: str) -> None:
    run = applied
    saved = reviewed_plan(run)
    before = digest(run.store)
    run("apply", "--plan", tampered(saved, EDITS[field]), run.config, "--auto-approve", code=1)
    assert digest(run.store) == before


def test_with_a_key_an_unsigned_plan_is_refused(applied: Cli) -> None:
    run = applied
    saved = reviewed_plan(run)  # made without the key
    refused = run("apply", "--plan", saved, env={"RECONCILER_PLAN_KEY": KEY}, code=1)
    assert "the plan is not signed, and RECONCILER_PLAN_KEY is set" in refused.stderr


def test_a_plan_of_one_store_is_refused_on_a_copy_of_it(applied: Cli) -> None:
    run = applied
    saved = reviewed_plan(run)
    copy = run.tmp / "copy.db"
    shutil.copy(run.store, copy)
    before = digest(copy)
    refused = run("apply", "--plan", saved, "--store", copy, code=1)
    assert f"was made against local workspace {run.store.resolve()}" in refused.stderr
    assert f"not local workspace {copy.resolve()}" in refused.stderr
    assert digest(copy) == before


def test_every_output_names_its_workspace(applied: Cli) -> None:
    run = applied
    data = example()
    link_of(data, *VIP)["message"] = "Edited"
    run.write(data)
    where = f"local workspace {run.store.resolve()} (id "
    assert run("plan", run.config).stdout.startswith(f"Workspace: {where}")
    markdown = run("plan", run.config, "--format", "markdown").stdout
    assert f"Workspace: `{where}" in markdown
    plan_json = json.loads(run("plan", run.config, "--format", "json").stdout)
    assert plan_json["workspace"]["location"] == str(run.store.resolve())
    assert plan_json["workspace"]["backend"] == "local" and plan_json["workspace"]["id"]
    assert run("status").stdout.startswith(f"Workspace: {where}")
    applied_json = json.loads(run("apply", run.config, "--auto-approve", "--format", "json").stdout)
    assert applied_json["workspace"] == plan_json["workspace"]
    assert applied_json["workspace_changed"] is False
