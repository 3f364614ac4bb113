"""``plan.saved``: a saved plan written, read back, and every check made on it before apply
(each refusal its own type, so callers branch on types)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler import plan as planner
from reconciler.errors import (
    ForceRequired,
    PlanError,
    PlanFileError,
    StalePlan,
    UnboundPlan,
    UntrustedPlan,
    WrongWorkspace,
)
from reconciler.model import DesiredLink, WorkspaceRef
from reconciler.plan import saved
from reconciler.plan.fingerprint import fingerprint
from reconciler.render.json import dumps
from tests.helpers import channel, dc, desired, dl, link, workspace

WANT = desired(dc("acmepets", "Acme", dl("Bio", "Hello", "bio"), dl("New", "Fresh")))
ACTUAL = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi", "bio")))
HERE = WorkspaceRef("local", "/srv/a.db", "0a1b")
KEY = b"plan-key-for-tests"


def made(**kw: Any) -> planner.Plan:
    """The plan of WANT against ACTUAL in the workspace HERE."""
    return planner.build(WANT, ACTUAL, config_sha256="a" * 64, workspace=HERE, **kw)


def save(tmp_path: Path, data: dict[str, Any] | None = None, *, key: bytes | None = None) -> Path:
    """The plan of WANT against ACTUAL saved as ``plan --out`` does (``data`` instead, if
    given), and its path."""
    path = tmp_path / "plan.json"
    text = saved.dumps(made(), key=key) if data is None else dumps(data)
    path.write_text(text, encoding="utf-8")
    return path


def replan(plan: saved.SavedPlan, **kw: Any) -> planner.Plan:
    """``saved.replan`` of ``plan`` against ACTUAL in HERE, unless ``kw`` says otherwise."""
    options: dict[str, Any] = {"name": "p", "workspace": HERE, "can_connect": False, **kw}
    return saved.replan(plan, options.pop("actual", ACTUAL), **options)


def test_a_saved_plan_reads_back_as_it_was_made(tmp_path: Path) -> None:
    plan = made()
    back = saved.load(save(tmp_path))
    assert back.desired == WANT
    assert back.config_sha256 == "a" * 64
    assert back.state_fingerprint == plan.state_fingerprint
    assert back.changes == [c.to_dict() for c in plan.changes]
    assert back.forced is False
    assert back.workspace == HERE
    assert back.signed is False


def test_replan_gives_the_same_changes_against_the_same_state(tmp_path: Path) -> None:
    again = replan(saved.load(save(tmp_path)))
    assert again.changes == planner.build(WANT, ACTUAL).changes
    assert again.workspace == HERE


def test_a_plan_of_another_config_is_unbound_and_says_what_differs(tmp_path: Path) -> None:
    plan = saved.load(save(tmp_path))
    other = desired(dc("acmepets", "Acme", dl("Bio", "Hello!", "bio"), dl("New", "Fresh")))
    with pytest.raises(UnboundPlan) as info:
        replan(plan, given=("w.yaml", other))
    assert str(info.value).startswith("p was not made from w.yaml as it is now")
    assert "acmepets: link 'Bio' message is 'Hello' in the plan, 'Hello!' in the config" in str(
        info.value
    )
    # the config it was made from passes, whatever its bytes (comments, order of keys)
    assert replan(plan, given=("w.yaml", WANT)).changes == made().changes


def test_a_plan_of_another_workspace_is_refused_even_with_the_same_state(tmp_path: Path) -> None:
    plan = saved.load(save(tmp_path))
    for elsewhere in (
        WorkspaceRef("local", "/srv/copy-of-a.db", "0a1b"),  # a copy of the store
        WorkspaceRef("local", "/srv/a.db", "ffff"),  # another store made at the same path
        WorkspaceRef("http", "https://api.sleekflow.io", "0a1b"),
    ):
        with pytest.raises(WrongWorkspace, match=r"was made against local workspace /srv/a\.db"):
            replan(plan, workspace=elsewhere)


def test_a_forced_plan_needs_force_again(tmp_path: Path) -> None:
    path = tmp_path / "forced.json"
    path.write_text(saved.dumps(made(force=True)), encoding="utf-8")
    plan = saved.load(path)
    assert plan.forced
    with pytest.raises(ForceRequired, match="apply it with --force too"):
        replan(plan)
    assert replan(plan, force=True).forced


def test_a_workspace_that_moved_makes_the_plan_stale_and_says_what_moved(tmp_path: Path) -> None:
    plan = saved.load(save(tmp_path))
    moved = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hey", "bio")))
    with pytest.raises(StalePlan) as info:
        replan(plan, actual=moved)
    assert "acmepets: link 'Bio' (id 1) message changed: 'Hi' -> 'Hey'" in str(info.value)
    assert isinstance(info.value, PlanError)  # every refusal is a PlanError too


def test_changes_edited_in_the_file_are_refused(tmp_path: Path) -> None:
    data = saved.to_dict(made())
    data["changes"] = data["changes"][:1]
    data["summary"]["create"] = 0
    with pytest.raises(StalePlan, match="no longer matches"):
        replan(saved.load(save(tmp_path, data)))


def _regeneration(data: dict[str, Any]) -> dict[str, Any]:
    """The regeneration of Bio in the saved plan ``data``."""
    return next(c for c in data["changes"] if c["action"] == "regenerate")


_EDITED = "the plan file was edited"
_NOT_ITS_OWN = _EDITED + r" \(it regenerates acmepets / 'Bio' otherwise than its desired and prior"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["summary"].update(regenerate=5), _EDITED + r" \(its summary doesn't count"),
        (lambda d: d["changes"].pop(), _EDITED + r" \(its summary doesn't count"),
        (
            lambda d: _regeneration(d)["after"].update(url="https://tiktok.me/evil?message=x"),
            _NOT_ITS_OWN,
        ),
        (lambda d: _regeneration(d)["before"].update(url="https://tiktok.me/x"), _NOT_ITS_OWN),
        (lambda d: _regeneration(d)["before"].update(message="Hey"), _NOT_ITS_OWN),
        (lambda d: _regeneration(d)["after"].update(message="Other"), _NOT_ITS_OWN),
        (lambda d: d["prior_state"]["acmepets"].update(links=[]), _NOT_ITS_OWN),
    ],
)
def test_a_plan_that_is_not_its_own_plan_is_refused_by_load(
    tmp_path: Path, edit: Any, message: str
) -> None:
    # what apply --plan and links --changed-since PLANFILE both read: an unsigned file can
    # be edited, but not into a plan that its own desired and prior state don't make
    data = saved.to_dict(made())
    assert saved.load(save(tmp_path, data)).changes == data["changes"]
    edit(data)
    data["state_fingerprint"] = fingerprint(data["prior_state"])  # edited with care
    with pytest.raises(PlanFileError, match=message) as info:
        saved.load(save(tmp_path, data))
    assert str(info.value).endswith("make the plan again with plan --out")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("format_version"), "it has no format_version"),
        (lambda d: d.update(format_version=2), "unsupported plan format_version 2"),
        (lambda d: d.pop("desired"), r"a plan, but not a saved one \(no desired\)"),
        (lambda d: d.pop("workspace"), r"a plan, but not a saved one \(no workspace\)"),
        (lambda d: d["workspace"].update(backend="ftp"), "not a valid plan file"),
        (lambda d: d["prior_state"].clear(), "the plan file was edited"),
        (lambda d: d["desired"]["channels"][0].update(account="x"), "is not valid"),
        (lambda d: d.update(changes="x"), "not a valid plan file"),
    ],
)
def test_a_file_that_is_not_a_saved_plan_is_refused(
    tmp_path: Path, edit: Any, message: str
) -> None:
    data = saved.to_dict(made())
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


# --- signed plans -------------------------------------------------------------------------


def test_a_signed_plan_applies_with_its_key(tmp_path: Path) -> None:
    plan = saved.load(save(tmp_path, key=KEY), key=KEY)
    assert plan.signed
    assert replan(plan).changes == made().changes
    assert KEY.decode() not in save(tmp_path, key=KEY).read_text(encoding="utf-8")


def test_with_a_key_an_unsigned_plan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UntrustedPlan, match="the plan is not signed"):
        saved.load(save(tmp_path), key=KEY)


def test_a_plan_signed_with_another_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UntrustedPlan, match="signature does not match") as info:
        saved.load(save(tmp_path, key=b"another key"), key=KEY)
    assert KEY.decode() not in str(info.value) and "another key" not in str(info.value)


def test_every_edited_byte_of_a_signed_plan_is_refused(tmp_path: Path) -> None:
    path = save(tmp_path, key=KEY)
    original = path.read_bytes()
    refused = 0
    # every position in the file: flipping one character makes it unreadable, invalid,
    # unsigned or mismatched, but never a plan that loads
    for index in range(0, len(original), max(1, len(original) // 400)):
        edited = bytearray(original)
        edited[index] = ord("x") if edited[index] != ord("x") else ord("y")
        path.write_bytes(bytes(edited))
        with pytest.raises(PlanError):
            saved.load(path, key=KEY)
        refused += 1
    assert refused >= 300


def test_edits_that_keep_the_json_valid_are_refused_when_signed(tmp_path: Path) -> None:
    path = save(tmp_path, key=KEY)
    data = json.loads(path.read_text(encoding="utf-8"))
    for edit in (
        lambda d: d.update(forced=True),
        lambda d: d["desired"]["channels"][0]["links"][0].update(message="Widened"),
        lambda d: d["changes"].pop(),
        lambda d: d.update(config_sha256="b" * 64),
        lambda d: d["workspace"].update(location="/srv/other.db"),
        lambda d: d.update(signature="0" * 64),
    ):
        changed = json.loads(json.dumps(data))
        edit(changed)
        path.write_text(json.dumps(changed, sort_keys=True, indent=2) + "\n", encoding="utf-8")
        with pytest.raises(UntrustedPlan):
            saved.load(path, key=KEY)
    # the same bytes re-indented: still refused (the signature covers the exact file)
    path.write_text(json.dumps(data, sort_keys=True, indent=4) + "\n", encoding="utf-8")
    with pytest.raises(UntrustedPlan, match="edited after it was signed"):
        saved.load(path, key=KEY)


def test_prune_and_renamed_from_are_recorded_and_read_back(tmp_path: Path) -> None:
    want = desired(
        dc(
            "acmepets",
            "Acme",
            DesiredLink(title="Cyber Monday", message="Hey", ref="bio", renamed_from=("Bio",)),
            prune=False,
        )
    )
    plan = planner.build(want, ACTUAL, workspace=HERE, config_files=(("w.yaml", "b" * 64),))
    path = tmp_path / "plan.json"
    path.write_text(saved.dumps(plan), encoding="utf-8")
    back = saved.load(path)
    assert back.desired == want
    assert back.config_files == {"w.yaml": "b" * 64}
    assert replan(back, given=("w.yaml", want), given_files={"w.yaml": "b" * 64}).changes == (
        plan.changes
    )
    # a config file changed, added or left out since: refused, each named
    with pytest.raises(UnboundPlan) as info:
        replan(back, given=("w.yaml x.yaml", want), given_files={"w.yaml": "c" * 64, "x": "d"})
    assert str(info.value).splitlines()[1:3] == [
        "  x: a config file the plan was not made from",
        "  w.yaml: changed since the plan was made (its sha256 differs)",
    ]
    with pytest.raises(UnboundPlan, match=r"w\.yaml: the plan was made from it, and it is not"):
        replan(back, given=("other.yaml", want), given_files={})


def test_a_plan_file_larger_than_any_plan_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An endless device or a huge file given as PLANFILE: a clear refusal after the limit,
    never the whole of it read into memory (it was a MemoryError, an "internal error")."""
    with pytest.raises(PlanFileError, match="larger than the 256 MiB limit of a plan file"):
        saved.load("/dev/zero")
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "0.001")  # plans: 8 times a config
    big = save(tmp_path, saved.to_dict(made()))
    big.write_bytes(big.read_bytes() + b" " * 9000)
    with pytest.raises(PlanFileError, match="larger than the 8,384 bytes limit of a plan file"):
        saved.load(big)
