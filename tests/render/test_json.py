"""The JSON plan and apply result: every plan matches ``plan.schema.json``, output is
deterministic, and the schema has teeth."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import plan as planner
from reconciler.apply import ApplyResult, Outcome
from reconciler.model import (
    Channel,
    ChannelStatus,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    Link,
    WorkspaceState,
    link_url,
)
from reconciler.plan import Plan
from reconciler.render.json import dumps, render_apply, render_plan
from tests.helpers import (
    assert_valid_plan_json,
    channel,
    dc,
    desired,
    dl,
    every_action_plan,
    plan_validator,
    workspace,
)

A = "acmepets"


def _every(**kw: Any) -> Plan:
    want, actual = every_action_plan()
    return planner.build(want, actual, can_connect=True, **kw)


def test_every_action_plan_is_valid_and_complete() -> None:
    plan = _every(config_sha256="ab" * 32)
    data = assert_valid_plan_json(render_plan(plan))
    assert data == plan.to_dict()
    assert data["format_version"] == 1
    assert data["config_sha256"] == "ab" * 32
    assert data["summary"] == {
        "connect": 1,
        "rename": 1,
        "create": 2,
        "update": 1,
        "regenerate": 1,
        "remove": 2,
    }
    regenerate = next(c for c in data["changes"] if c["action"] == "regenerate")
    assert regenerate == {
        "action": "regenerate",
        "resource": "link",
        "channel": A,
        "title": "Bio",
        "fields": ["message"],
        "irreversible": False,
        "before": {
            "title": "Bio",
            "ref": "bio",
            "message": "Hi",
            "url": f"https://tiktok.me/{A}?ref=bio&message=Hi",
        },
        "after": {
            "title": "Bio",
            "ref": "bio",
            "message": "Hello there",
            "url": f"https://tiktok.me/{A}?ref=bio&message=Hello%20there",
        },
    }
    removals = [c for c in data["changes"] if c["action"] == "remove"]
    assert [(c["resource"], c["irreversible"], c["after"]) for c in removals] == [
        ("link", True, None),
        ("channel", True, None),
    ]
    assert removals[1]["before"] == {
        "display_name": "Old Brand",
        "links": [  # what the channel takes with it: the URL keeps working, untracked
            {
                "title": "Poster",
                "ref": None,
                "message": "QR",
                "url": "https://tiktok.me/oldbrand?message=QR",
            }
        ],
    }
    assert data["diagnostics"] == [
        {
            "severity": "warning",
            "code": "duplicate-ref",
            "channel": A,
            "message": "ref fb_ad is used by 2 links (Ad summer, Fresh): tracking can't tell them "
            "apart",
        },
        {
            "severity": "info",
            "code": "unmanaged-channel",
            "channel": "zoo",
            "message": "channel zoo (Zoo, connected) is not in the config: left alone",
        },
    ]


def test_output_is_sorted_indented_utf8_and_ends_with_a_newline() -> None:
    plan = planner.build(desired(dc(A, "Acme", dl("Émoji 😀", "¡Hola!"))), workspace(channel(A)))
    out = render_plan(plan)
    assert out.endswith("}\n")
    assert '"title": "Émoji 😀"' in out  # not \u escapes
    assert out == json.dumps(json.loads(out), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert render_plan(plan) == out
    assert_valid_plan_json(out)


def test_an_inapplicable_plan_is_valid_too() -> None:
    want = desired(dc(A, remove=True, protect=True), dc("newone", "New", dl("Bio", "Hi")))
    plan = planner.build(want, workspace(channel(A)))
    data = assert_valid_plan_json(render_plan(plan))
    assert [(d["severity"], d["code"]) for d in data["diagnostics"]] == [
        ("error", "protected-channel"),
        ("error", "channel-not-connected"),
    ]


def test_lone_surrogates_from_an_api_are_escaped() -> None:
    actual = workspace(channel("zoo", "Zoo \ud800"))
    out = render_plan(planner.build(DesiredState(), actual))
    out.encode("utf-8")  # would raise with the raw surrogate
    assert "Zoo \\ud800" in out
    assert json.loads(out)["diagnostics"][0]["message"].startswith("channel zoo (Zoo \ud800,")


def test_dumps() -> None:
    assert dumps({"b": 1, "a": [1, "é"]}) == '{\n  "a": [\n    1,\n    "é"\n  ],\n  "b": 1\n}\n'


# --- the schema has teeth ---------------------------------------------------------------------


def _broken(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(_every().to_dict())
    edit(data)
    return data


def _set(path: list[Any], value: Any) -> Any:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return edit


REMOVE_LINK, REMOVE_CHANNEL, CONNECT, CREATE = 4, 5, 6, 3


@pytest.mark.parametrize(
    "edit",
    [
        _set(["changes", REMOVE_LINK, "irreversible"], False),
        _set(
            ["changes", CREATE, "before"],
            {"title": "t", "ref": None, "message": "m", "url": "https://tiktok.me/a?message=m"},
        ),
        _set(["changes", CREATE, "after", "url"], "https://evil.example/"),
        _set(["changes", CONNECT, "action"], "create"),
        _set(["changes", REMOVE_CHANNEL, "after"], {"display_name": "x"}),
        _set(["changes", 0, "action"], "delete"),
        _set(["changes", 0, "extra"], 1),
        _set(["summary", "connect"], -1),
        _set(["state_fingerprint"], "not a hash"),
        _set(["format_version"], 2),
        _set(["diagnostics", 0, "severity"], "fatal"),
        _set(["diagnostics", 0, "code"], "Not A Code"),
    ],
)
def test_the_schema_rejects_broken_plans(edit: Any) -> None:
    assert list(plan_validator().iter_errors(_broken(edit)))
    with pytest.raises(AssertionError):
        assert_valid_plan_json(json.dumps(_broken(edit)))


# --- property: any plan matches the schema ----------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
REF = st.none() | st.sampled_from(["bio", "ad_1", "x-y.z"])


@st.composite
def states(draw: st.DrawFn) -> tuple[DesiredState, WorkspaceState]:
    accounts = draw(st.lists(st.sampled_from(["acme", "Beta", "c.d"]), unique=True, max_size=3))
    chans = []
    for n, account in enumerate(accounts):
        links = draw(st.lists(st.tuples(TEXT, REF, TEXT), max_size=4))
        chans.append(
            Channel(
                str(n),
                account,
                draw(TEXT),
                draw(st.sampled_from(list(ChannelStatus))),
                tuple(
                    Link(f"{n}-{i}", t, r, m, link_url(account, r, m), seq=i)
                    for i, (t, r, m) in enumerate(links)
                ),
            )
        )
    declared = draw(st.lists(st.sampled_from(["ACME", "beta", "c.d", "new"]), unique=True))
    wanted = []
    for account in declared:
        remove = draw(st.booleans())
        links = draw(
            st.lists(st.tuples(TEXT, REF, TEXT), max_size=4, unique_by=lambda x: x[0].casefold())
        )
        wanted.append(
            DesiredChannel(
                account,
                None if remove else draw(TEXT),
                () if remove else tuple(DesiredLink(t, m, r) for t, r, m in links),
                protect=draw(st.booleans()),
                remove=remove,
                max_change_pct=draw(st.sampled_from([0.0, 30.0, 100.0])),
            )
        )
    return DesiredState(tuple(wanted)), WorkspaceState(tuple(chans))


@settings(max_examples=80, deadline=None)
@given(pair=states(), can_connect=st.booleans(), force=st.booleans())
def test_every_plan_matches_the_schema(
    pair: tuple[DesiredState, WorkspaceState], can_connect: bool, force: bool
) -> None:
    want, actual = pair
    plan = planner.build(want, actual, can_connect=can_connect, force=force)
    out = render_plan(plan)
    assert assert_valid_plan_json(out) == plan.to_dict()
    assert render_plan(planner.build(want, actual, can_connect=can_connect, force=force)) == out


# --- the apply result -------------------------------------------------------------------------


def test_apply_result_json() -> None:
    plan = _every()
    rename, regenerate, *rest = plan.changes
    new_url = f"https://tiktok.me/{A}?ref=bio&message=Hello%20there"
    result = ApplyResult(
        (Outcome(rename), Outcome(regenerate, new_url)), tuple(rest[1:]), rest[0], "boom"
    )
    data = json.loads(render_apply(result))
    assert data["ok"] is False
    assert [(c["action"], c["result_url"]) for c in data["applied"]] == [
        ("rename", None),
        ("regenerate", new_url),
    ]
    assert data["failed"] == dict(rest[0].to_dict(), error="boom")
    assert data["not_applied"] == [c.to_dict() for c in rest[1:]]
    assert data["url_changes"] == [
        {
            "channel": A,
            "title": "Bio",
            "where": "TikTok bio",
            "old_url": f"https://tiktok.me/{A}?ref=bio&message=Hi",
            "new_url": new_url,
        }
    ]
    assert sorted(data) == [
        "applied",
        "failed",
        "not_applied",
        "ok",
        "url_changes",
        "workspace",
        "workspace_changed",
    ]


def test_an_empty_apply_result() -> None:
    assert json.loads(render_apply(ApplyResult(()))) == {
        "ok": True,
        "applied": [],
        "failed": None,
        "not_applied": [],
        "workspace": None,
        "workspace_changed": False,
        "url_changes": [],
    }
