"""``plan.saved``: a saved plan written, read back, and every check made on it before apply
(each refusal its own type, so callers branch on types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import plan as planner
from reconciler.errors import PlanError, PlanFileError, StalePlan, UnboundPlan
from reconciler.plan import saved
from reconciler.render.json import dumps
from tests.helpers import channel, dc, desired, dl, link, workspace

WANT = desired(dc("acmepets", "Acme", dl("Bio", "Hello", "bio"), dl("New", "Fresh")))
ACTUAL = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi", "bio")))


def save(tmp_path: Path, data: dict[str, Any] | None = None) -> Path:
    """The plan of WANT against ACTUAL saved as ``plan --out`` does (``data`` instead, if
    given), and its path."""
    made = planner.build(WANT, ACTUAL, config_sha256="a" * 64)
    path = tmp_path / "plan.json"
    path.write_text(dumps(data if data is not None else saved.to_dict(made)), encoding="utf-8")
    return path


def test_a_saved_plan_reads_back_as_it_was_made(tmp_path: Path) -> None:
    made = planner.build(WANT, ACTUAL, config_sha256="a" * 64)
    back = saved.load(save(tmp_path))
    assert back.desired == WANT
    assert back.config_sha256 == "a" * 64
    assert back.state_fingerprint == made.state_fingerprint
    assert back.changes == [c.to_dict() for c in made.changes]
    assert back.forced is False


def test_replan_gives_the_same_changes_against_the_same_state(tmp_path: Path) -> None:
    again = saved.replan(saved.load(save(tmp_path)), ACTUAL, name="p", can_connect=False)
    assert again.changes == planner.build(WANT, ACTUAL).changes


def test_a_plan_of_another_config_is_unbound(tmp_path: Path) -> None:
    plan = saved.load(save(tmp_path))
    with pytest.raises(UnboundPlan, match=r"p was not made from w\.yaml as it is now"):
        saved.replan(plan, ACTUAL, name="p", can_connect=False, source=("w.yaml", "b" * 64))
    # the one it was made from passes
    saved.replan(plan, ACTUAL, name="p", can_connect=False, source=("w.yaml", "a" * 64))


def test_a_workspace_that_moved_makes_the_plan_stale_and_says_what_moved(tmp_path: Path) -> None:
    plan = saved.load(save(tmp_path))
    moved = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hey", "bio")))
    with pytest.raises(StalePlan) as info:
        saved.replan(plan, moved, name="p", can_connect=False)
    assert "acmepets: link 'Bio' (id 1) message changed: 'Hi' -> 'Hey'" in str(info.value)
    assert isinstance(info.value, PlanError)  # every refusal is a PlanError too


def test_changes_edited_in_the_file_are_refused(tmp_path: Path) -> None:
    data = saved.to_dict(planner.build(WANT, ACTUAL, config_sha256="a" * 64))
    data["changes"] = data["changes"][:1]
    data["summary"]["create"] = 0
    with pytest.raises(StalePlan, match="no longer matches"):
        saved.replan(saved.load(save(tmp_path, data)), ACTUAL, name="p", can_connect=False)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("format_version"), "it has no format_version"),
        (lambda d: d.update(format_version=2), "unsupported plan format_version 2"),
        (lambda d: d.pop("desired"), r"a plan, but not a saved one \(no desired\)"),
        (lambda d: d["prior_state"].clear(), "the plan file was edited"),
        (lambda d: d["desired"]["channels"][0].update(account="x"), "is not valid"),
        (lambda d: d.update(changes="x"), "not a valid plan file"),
    ],
)
def test_a_file_that_is_not_a_saved_plan_is_refused(
    tmp_path: Path, edit: Any, message: str
) -> None:
    data = saved.to_dict(planner.build(WANT, ACTUAL, config_sha256="a" * 64))
    edit(data)
    with pytest.raises(PlanFileError, match=message):
        saved.load(save(tmp_path, data))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a plan file"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1]", "a JSON object was expected"),
        (b"[" * 100_000, "not a plan file"),
    ],
)
def test_unreadable_plan_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    with pytest.raises(PlanFileError, match=message):
        saved.load(path)
    with pytest.raises(PlanFileError, match="no such plan file"):
        saved.load(tmp_path / "missing.json")
    with pytest.raises(PlanFileError, match="is a directory"):
        saved.load(tmp_path)


def test_the_saved_form_round_trips_through_json(tmp_path: Path) -> None:
    data = json.loads(save(tmp_path).read_text(encoding="utf-8"))
    assert set(data) >= {"desired", "prior_state", "forced", "changes", "config_sha256"}
