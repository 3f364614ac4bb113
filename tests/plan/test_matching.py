"""plan.matching (issue 15): ``prune: false`` keeps and lists links the config doesn't
declare; ``renamed_from`` says "same link" across an edit of title and message, matched after
the title and before ref and message; a channel removal carries the links it takes."""

from __future__ import annotations

from reconciler import plan as planner
from reconciler.errors import Severity
from reconciler.model import DesiredLink, DesiredState, WorkspaceState, link_url
from reconciler.plan import Action, ChannelValues, Plan, Resource
from reconciler.render import json as render_json
from tests.helpers import assert_valid_plan_json, channel, dc, desired, dl, link, workspace

A = "acmepets"
BLACK_FRIDAY = "Black Friday deals: 40% off everything!"
CYBER_MONDAY = "Cyber Monday deals: 30% off online!"


def build(want: DesiredState, actual: WorkspaceState, *, force: bool = False) -> Plan:
    """plan.build, with the JSON plan checked against the schema."""
    plan = planner.build(want, actual, force=force)
    assert_valid_plan_json(render_json.render_plan(plan))
    return plan


def renamed(title: str, message: str, ref: str | None, *old: str) -> DesiredLink:
    return DesiredLink(title=title, message=message, ref=ref, renamed_from=old)


# --- prune: false ---------------------------------------------------------------------------


def test_prune_false_keeps_and_lists_links_the_config_does_not_declare() -> None:
    actual = workspace(
        channel(A, "Acme", link(1, "Bio", "Hi"), link(2, "UI promo", "Made in the UI", "ui"))
    )
    plan = build(desired(dc(A, "Acme", dl("Bio", "Hi"), prune=False)), actual)
    assert plan.changes == ()
    assert plan.applicable
    (kept,) = plan.diagnostics
    assert kept.severity is Severity.INFO
    assert kept.code == "kept-link"
    assert kept.message == (
        f"link 'UI promo' ({link_url(A, 'ui', 'Made in the UI')}) is not in the config and is "
        "kept (prune: false for channel acmepets)"
    )
    # with prune (the default), the same link is an irreversible removal
    pruned = build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    assert [(c.action, c.title) for c in pruned.changes] == [(Action.REMOVE, "UI promo")]


def test_links_prune_false_keeps_are_no_part_of_the_state_a_saved_plan_is_bound_to() -> None:
    ui = link(2, "UI promo", "Made in the UI")
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi"), ui))
    plan = build(desired(dc(A, "Acme", dl("Bio", "Hi"), prune=False)), actual)
    assert plan.kept_links == frozenset({"2"})
    assert list(plan.declared[A]["links"]) == ["1"]
    # another link made in the UI after the review leaves the fingerprint as it was
    later = workspace(channel(A, "Acme", link(1, "Bio", "Hi"), ui, link(3, "More", "UI again")))
    again = build(desired(dc(A, "Acme", dl("Bio", "Hi"), prune=False)), later)
    assert again.state_fingerprint == plan.state_fingerprint
    # with prune, every link is the plan's business
    pruned = build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    assert sorted(pruned.declared[A]["links"]) == ["1", "2"]


def test_prune_false_still_creates_regenerates_and_renames_what_it_declares() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi"), link(2, "UI", "From the UI")))
    want = desired(dc(A, "Acme", dl("Bio", "Hello"), dl("New", "Fresh"), prune=False))
    plan = build(want, actual)
    assert [(c.action, c.title) for c in plan.changes] == [
        (Action.REGENERATE, "Bio"),
        (Action.CREATE, "New"),
    ]
    assert [d.code for d in plan.diagnostics] == ["kept-link"]


def test_the_bulk_guard_counts_only_what_is_really_changed_with_prune_false() -> None:
    # 12 links, 10 of them made in the UI: keeping them is no change, so no guard
    ui = [link(i, f"UI {i}", f"ui {i}") for i in range(3, 13)]
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi"), link(2, "Ad", "Sale"), *ui))
    kept = build(desired(dc(A, "Acme", dl("Bio", "Hi"), dl("Ad", "Sale"), prune=False)), actual)
    assert kept.applicable
    assert [d.code for d in kept.diagnostics] == ["kept-link"] * 10
    # the same config with prune removes 10 of 12: over the 30% guard
    pruned = build(desired(dc(A, "Acme", dl("Bio", "Hi"), dl("Ad", "Sale"))), actual)
    assert [d.code for d in pruned.errors] == ["too-many-changes"]


# --- renamed_from ---------------------------------------------------------------------------


def test_a_title_and_message_edit_with_renamed_from_is_one_regenerate_of_the_same_link() -> None:
    actual = workspace(channel(A, "Acme", link(7, "Ad - Black Friday", BLACK_FRIDAY, "fb_ad")))
    want = desired(
        dc(A, "Acme", renamed("Ad - Cyber Monday", CYBER_MONDAY, "fb_ad", "Ad - Black Friday"))
    )
    plan = build(want, actual)
    (change,) = plan.changes
    assert change.action is Action.REGENERATE
    assert change.link_id == "7"  # the same link: its id, and so its history
    assert change.fields == ("title", "message")
    assert change.before is not None and change.after is not None
    assert (change.before.title, change.after.title) == ("Ad - Black Friday", "Ad - Cyber Monday")
    assert change.after.url == link_url(A, "fb_ad", CYBER_MONDAY)  # type: ignore[union-attr]
    assert plan.removals == ()
    assert plan.regenerations == (change,)
    assert plan.diagnostics == ()
    # without renamed_from, the same edit is a create and an irreversible removal
    plain = build(desired(dc(A, "Acme", dl("Ad - Cyber Monday", CYBER_MONDAY, "fb_ad"))), actual)
    assert [c.action for c in plain.changes] == [Action.CREATE, Action.REMOVE]


def test_renamed_from_is_matched_after_the_title_and_before_ref_and_message() -> None:
    actual = workspace(
        channel(
            A,
            "Acme",
            link(1, "Old", "Same message", "same"),
            link(2, "Other", "Same message", "same"),
        )
    )
    # "New" names "Other" in renamed_from: it is matched to link 2, though link 1 has the same
    # ref and message and comes first in creation order
    want = desired(dc(A, "Acme", renamed("New", "Same message", "same", "Other")))
    plan = build(want, actual)
    assert [(c.action, c.title, c.link_id) for c in plan.changes] == [
        (Action.UPDATE, "New", "2"),
        (Action.REMOVE, "Old", "1"),
    ]
    # a link found by its own title keeps it: renamed_from is not needed, and says so
    actual = workspace(channel(A, "Acme", link(1, "New", "Hi"), link(2, "Older", "Bye")))
    plan = build(desired(dc(A, "Acme", renamed("New", "Hi", None, "Older"))), actual)
    assert [(c.action, c.title) for c in plan.changes] == [(Action.REMOVE, "Older")]
    (warning,) = plan.diagnostics
    assert (warning.severity, warning.code) == (Severity.WARNING, "renamed-from-unmatched")
    assert warning.message == (
        "link 'New': renamed_from 'Older' is not needed: the link already has its new title "
        "(probably already applied): remove it from the config"
    )


def test_a_list_of_old_titles_matches_the_first_one_present_ignoring_case() -> None:
    actual = workspace(channel(A, "Acme", link(3, "SPRING PROMO", "Spring!")))
    for olds, why in (
        (("Winter", "spring promo"), "matches no link of the channel"),
        (("spring promo", "Winter"), "is not needed: the link was found as 'SPRING PROMO'"),
    ):
        plan = build(
            desired(dc(A, "Acme", renamed("Summer promo", "Summer!", None, *olds))), actual
        )
        (change,) = plan.changes
        assert (change.action, change.link_id) == (Action.REGENERATE, "3")
        (warning,) = plan.diagnostics
        assert warning.message == (
            f"link 'Summer promo': renamed_from 'Winter' {why} (probably already applied): "
            "remove it from the config"
        )


def test_a_renamed_from_that_matches_nothing_is_a_warning() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi")))
    want = desired(dc(A, "Acme", dl("Bio", "Hi"), renamed("Ad", "Sale", None, "Gone long ago")))
    plan = build(want, actual)
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert plan.applicable
    (warning,) = plan.diagnostics
    assert warning.message == (
        "link 'Ad': renamed_from 'Gone long ago' matches no link of the channel (probably "
        "already applied): remove it from the config"
    )
    # a channel yet to connect has no links to match: nothing to warn about
    fresh = planner.build(want, workspace(), can_connect=True)
    assert [d.code for d in fresh.diagnostics] == []


# --- a channel removal shows what it takes ------------------------------------------------------


def test_a_channel_removal_carries_every_link_it_takes_with_its_url() -> None:
    links = [link(i, f"Poster {i}", f"Scan me {i}", account="oldbrand") for i in range(11, 0, -1)]
    actual = workspace(channel("oldbrand", "Old Brand", *links))
    plan = build(desired(dc("oldbrand", remove=True)), actual)
    (change,) = plan.changes
    assert (change.action, change.resource) == (Action.REMOVE, Resource.CHANNEL)
    assert isinstance(change.before, ChannelValues)
    assert change.before.links is not None
    # in creation order, each with the URL that keeps working, untracked
    assert [(lk.title, lk.url) for lk in change.before.links] == [
        (f"Poster {i}", link_url("oldbrand", None, f"Scan me {i}")) for i in range(1, 12)
    ]
    data = change.to_dict()
    assert len(data["before"]["links"]) == 11
    assert data["before"]["links"][0] == {
        "title": "Poster 1",
        "ref": None,
        "message": "Scan me 1",
        "url": "https://tiktok.me/oldbrand?message=Scan%20me%201",
    }
    # a rename's channel values carry no links
    renamed_plan = build(
        desired(dc("oldbrand", "New Brand")), workspace(channel("oldbrand", "Old"))
    )
    assert renamed_plan.changes[0].to_dict()["before"] == {"display_name": "Old"}
