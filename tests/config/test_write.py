"""Config written back (``config.write``): what it writes reads back to the same value."""

from __future__ import annotations

from reconciler import config
from reconciler import plan as planner
from reconciler.config.write import (
    HEADER,
    desired_to_dict,
    export_config,
    export_warnings,
)
from reconciler.model import DesiredChannel, DesiredLink, WorkspaceRef
from reconciler.plan import saved
from tests.helpers import channel, dc, desired, dl, link, workspace


def test_the_export_reads_back_as_the_workspace() -> None:
    state = workspace(
        channel("acmepets", "Acme", link(2, "Later", "Bye"), link(1, "Bio", "Hi", "bio")),
        channel("zoo", "Zoo"),
    )
    text = export_config(state)
    assert text.startswith(HEADER)
    desired_state, problems = config.check(text, "export.yaml")
    assert problems == []
    assert desired_state is not None
    assert desired_state.channels == (
        DesiredChannel(
            account="acmepets",
            display_name="Acme",
            links=(DesiredLink("Bio", "Hi", "bio"), DesiredLink("Later", "Bye")),
        ),
        DesiredChannel(account="zoo", display_name="Zoo"),
    )


def test_awkward_text_reads_back_exactly() -> None:
    # YAML 1.1 folds U+0085, U+2028 and U+2029 into spaces unless they are escaped, and reads
    # yes, 0123 and ~ as other than text unless they are quoted.
    messages = ["a\x85b", "a\u2028b", "a\u2029b", "yes", "0123", "~", " lead", "#x"]
    links = [link(i, f"t{i}", message) for i, message in enumerate(messages)]
    state, problems = config.check(export_config(workspace(channel("acme", "A", *links))), "w")
    assert problems == []
    assert state is not None
    assert [lk.message for lk in state.channels[0].links] == messages


def test_titles_that_clash_ignoring_case_are_warned_about_in_order() -> None:
    state = workspace(
        channel("acmepets", "Acme", link(1, "Bio", "a"), link(2, "Ad", "b"), link(3, "BIO", "c"))
    )
    (warning,) = export_warnings(state)
    assert "has links titled 'Bio', 'BIO'" in warning
    assert export_warnings(workspace(channel("zoo", "Zoo", link(1, "A", "a")))) == []


def test_desired_to_dict_is_what_a_saved_plan_records() -> None:
    state = desired(
        dc("acmepets", "Acme", dl("Bio", "Hi", "bio"), dl("Ad", "Sale"), protect=True),
        dc("oldbrand", remove=True),
    )
    made = planner.build(state, workspace(), workspace=WorkspaceRef("local", "/ws.db", None))
    recorded = saved.to_dict(made)["desired"]
    assert desired_to_dict(state) == recorded
    data = desired_to_dict(state)
    assert data["channels"][0]["links"][1] == {"title": "Ad", "ref": None, "message": "Sale"}
    assert data["channels"][1]["display_name"] is None
