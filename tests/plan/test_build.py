"""plan.build: the actions and diagnostics of DESIGN section 3, the bulk-change guard of
section 7, and determinism. Every plan built here is also checked against the plan schema."""

from __future__ import annotations

import pytest

from reconciler import plan as planner
from reconciler.errors import Severity
from reconciler.model import ChannelStatus, DesiredState, WorkspaceState, link_url
from reconciler.plan import (
    CONNECT_FIX,
    DISCONNECTED_FIX,
    Action,
    Change,
    ChannelValues,
    Diagnostic,
    LinkValues,
    Plan,
    Resource,
)
from reconciler.render import json as render_json
from reconciler.render import markdown, text
from tests.helpers import assert_valid_plan_json, channel, dc, desired, dl, link, workspace

A = "acmepets"


def build(
    want: DesiredState,
    actual: WorkspaceState,
    *,
    can_connect: bool = False,
    force: bool = False,
) -> Plan:
    """plan.build, with the JSON plan checked against the schema."""
    plan = planner.build(want, actual, can_connect=can_connect, force=force)
    data = assert_valid_plan_json(render_json.render_plan(plan))
    assert data == plan.to_dict()
    return plan


def lv(title: str, message: str, ref: str | None = None, account: str = A) -> LinkValues:
    return LinkValues(title, ref, message, link_url(account, ref, message))


def codes(plan: Plan) -> list[tuple[str, str, str | None]]:
    return [(str(d.severity), d.code, d.channel) for d in plan.diagnostics]


# --- no change --------------------------------------------------------------------------------


def test_in_sync_means_no_change_and_no_diagnostic() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi", "bio"), link(2, "Ad", "Sale")))
    want = desired(dc(A, "Acme", dl("Bio", "Hi", "bio"), dl("Ad", "Sale")))
    plan = build(want, actual)
    assert plan.changes == ()
    assert plan.diagnostics == ()
    assert plan.applicable
    assert plan.summary == {
        "connect": 0,
        "rename": 0,
        "create": 0,
        "update": 0,
        "regenerate": 0,
        "remove": 0,
    }


def test_empty_config_and_empty_workspace() -> None:
    plan = build(DesiredState(), WorkspaceState())
    assert plan.to_dict()["changes"] == []
    assert plan.applicable


# --- channels ---------------------------------------------------------------------------------


def test_connect_when_the_backend_can_connect() -> None:
    want = desired(dc("newshop", "New Shop", dl("Bio", "Hi", "bio")))
    plan = build(want, WorkspaceState(), can_connect=True)
    assert plan.changes == (
        Change(
            Action.CONNECT,
            Resource.CHANNEL,
            "newshop",
            fields=("channel",),
            after=ChannelValues("New Shop"),
        ),
        Change(
            Action.CREATE,
            Resource.LINK,
            "newshop",
            "Bio",
            ("title", "ref", "message"),
            None,
            lv("Bio", "Hi", "bio", "newshop"),
        ),
    )
    assert plan.diagnostics == ()
    assert plan.applicable
    assert plan.to_dict()["changes"][0] == {
        "action": "connect",
        "resource": "channel",
        "channel": "newshop",
        "title": None,
        "fields": ["channel"],
        "irreversible": False,
        "before": None,
        "after": {"display_name": "New Shop"},
    }


def test_not_connected_is_an_error_with_the_fix_when_the_backend_cannot_connect() -> None:
    want = desired(dc("newshop", "New Shop", dl("Bio", "Hi")))
    plan = build(want, WorkspaceState(), can_connect=False)
    assert plan.diagnostics == (
        Diagnostic(
            Severity.ERROR,
            "channel-not-connected",
            "newshop",
            "channel newshop is not connected to this workspace. Connect it in SleekFlow "
            "(Channels > TikTok Business Messaging), then plan again.",
        ),
    )
    assert CONNECT_FIX in plan.diagnostics[0].message
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert not plan.applicable


def test_rename_channel() -> None:
    plan = build(desired(dc(A, "Acme Pets (US)")), workspace(channel(A, "Acme")))
    assert plan.changes == (
        Change(
            Action.RENAME,
            Resource.CHANNEL,
            A,
            fields=("display_name",),
            before=ChannelValues("Acme"),
            after=ChannelValues("Acme Pets (US)"),
            channel_id=f"c-{A}",
            version=1,
        ),
    )
    assert plan.summary["rename"] == 1
    assert not plan.changes[0].irreversible


def test_display_name_case_change_is_a_rename() -> None:
    plan = build(desired(dc(A, "ACME")), workspace(channel(A, "Acme")))
    assert [c.action for c in plan.changes] == [Action.RENAME]


def test_remove_channel_is_irreversible_and_lists_no_link_removals() -> None:
    actual = workspace(channel("oldbrand", "Old Brand", link(1, "Bio", "Hi", account="oldbrand")))
    plan = build(desired(dc("oldbrand", remove=True)), actual)
    assert plan.changes == (
        Change(
            Action.REMOVE,
            Resource.CHANNEL,
            "oldbrand",
            fields=("channel",),
            # the links it takes with it are listed with the channel, not as link removals
            before=ChannelValues(
                "Old Brand",
                links=(
                    LinkValues(
                        title="Bio",
                        ref=None,
                        message="Hi",
                        url="https://tiktok.me/oldbrand?message=Hi",
                    ),
                ),
            ),
            channel_id="c-oldbrand",
            version=1,
        ),
    )
    assert plan.changes[0].irreversible
    assert plan.removals == plan.changes
    assert plan.to_dict()["changes"][0]["after"] is None
    assert plan.applicable


def test_remove_true_for_an_absent_channel_is_info_and_no_change() -> None:
    plan = build(desired(dc("oldbrand", remove=True)), WorkspaceState())
    assert plan.changes == ()
    assert plan.diagnostics == (
        Diagnostic(
            Severity.INFO,
            "channel-absent",
            "oldbrand",
            "channel oldbrand is marked remove: true and is not in the workspace: nothing to do "
            "(the entry can be dropped from the config)",
        ),
    )
    assert plan.applicable


def test_removing_a_protected_channel_is_an_error() -> None:
    plan = build(desired(dc(A, remove=True, protect=True)), workspace(channel(A, "Acme")))
    assert [c.action for c in plan.changes] == [Action.REMOVE]
    assert plan.diagnostics == (
        Diagnostic(
            Severity.ERROR,
            "protected-channel",
            A,
            f"channel {A} is protected (protect: true) but the config removes it: set "
            "protect: false in a reviewed change first, or drop remove: true",
        ),
    )
    assert not plan.applicable


def test_protect_without_remove_is_fine() -> None:
    plan = build(desired(dc(A, "Acme", protect=True)), workspace(channel(A, "Acme")))
    assert plan.changes == () and plan.diagnostics == ()


def test_unmanaged_channel_is_info_and_untouched() -> None:
    actual = workspace(
        channel(A, "Acme"),
        channel("zoo", "Zoo", link(1, "Bio", "Hi", account="zoo")),
        channel("other", "Other Shop", status=ChannelStatus.DISCONNECTED),
    )
    plan = build(desired(dc(A, "Acme")), actual)
    assert plan.changes == ()
    assert plan.diagnostics == (
        Diagnostic(
            Severity.INFO,
            "unmanaged-channel",
            "other",
            "channel other (Other Shop, disconnected) is not in the config: left alone",
        ),
        Diagnostic(
            Severity.INFO,
            "unmanaged-channel",
            "zoo",
            "channel zoo (Zoo, connected) is not in the config: left alone",
        ),
    )
    assert plan.applicable


def test_accounts_match_ignoring_case_and_the_workspace_spelling_is_used() -> None:
    actual = workspace(channel("AcmePets", "Acme", link(1, "Old", "Hi", account="AcmePets")))
    want = desired(dc("acmepets", "Acme", dl("Bio", "Hello"), dl("Old", "Bye")))
    plan = build(want, actual)
    assert [c.channel for c in plan.changes] == ["AcmePets", "AcmePets"]
    create, regen = plan.changes
    assert isinstance(create.after, LinkValues)
    assert create.after.url == "https://tiktok.me/AcmePets?message=Hello"
    assert isinstance(regen.after, LinkValues)
    assert regen.after.url == "https://tiktok.me/AcmePets?message=Bye"
    assert not any(d.code == "unmanaged-channel" for d in plan.diagnostics)


# --- links ------------------------------------------------------------------------------------


def test_create_link() -> None:
    plan = build(
        desired(dc(A, "Acme", dl("Bio", "Hi there", "bio"))), workspace(channel(A, "Acme"))
    )
    assert plan.changes == (
        Change(
            Action.CREATE,
            Resource.LINK,
            A,
            "Bio",
            ("title", "ref", "message"),
            None,
            LinkValues(
                "Bio", "bio", "Hi there", f"https://tiktok.me/{A}?ref=bio&message=Hi%20there"
            ),
            f"c-{A}",
        ),
    )
    assert not plan.changes[0].irreversible


def test_update_title_only_keeps_the_url() -> None:
    # A rename detected by ref + message: the URL stays the same.
    actual = workspace(channel(A, "Acme", link(7, "Old title", "Hi", "bio")))
    plan = build(desired(dc(A, "Acme", dl("New title", "Hi", "bio"))), actual)
    (change,) = plan.changes
    assert change == Change(
        Action.UPDATE,
        Resource.LINK,
        A,
        "New title",
        ("title",),
        lv("Old title", "Hi", "bio"),
        lv("New title", "Hi", "bio"),
        f"c-{A}",
        "7",
        version=1,
    )
    assert isinstance(change.before, LinkValues) and isinstance(change.after, LinkValues)
    assert change.before.url == change.after.url
    assert not change.changes_url


def test_title_case_change_counts_as_an_update() -> None:
    actual = workspace(channel(A, "Acme", link(1, "bio link", "Hi")))
    plan = build(desired(dc(A, "Acme", dl("Bio Link", "Hi"))), actual)
    assert [(c.action, c.fields, c.title, c.link_id) for c in plan.changes] == [
        (Action.UPDATE, ("title",), "Bio Link", "1")
    ]


@pytest.mark.parametrize(
    ("want", "fields"),
    [
        (dl("Bio", "Hello", "bio"), ("message",)),
        (dl("Bio", "Hi", "bio2"), ("ref",)),
        (dl("Bio", "Hi"), ("ref",)),
        (dl("Bio", "Hello", "bio2"), ("ref", "message")),
        (dl("BIO", "Hello", "bio"), ("title", "message")),
        (dl("bIo", "Hello"), ("title", "ref", "message")),
    ],
)
def test_regenerate_lists_exactly_the_changed_fields(want: object, fields: tuple[str, ...]) -> None:
    actual = workspace(channel(A, "Acme", link(3, "Bio", "Hi", "bio")))
    plan = build(desired(dc(A, "Acme", want)), actual)  # type: ignore[arg-type]
    (change,) = plan.changes
    assert change.action is Action.REGENERATE
    assert change.fields == fields
    assert change.before == lv("Bio", "Hi", "bio")
    assert isinstance(change.after, LinkValues)
    assert change.after.url == link_url(A, change.after.ref, change.after.message)
    assert change.after.url != change.before.url
    assert change.link_id == "3"
    assert plan.regenerations == (change,)


def test_ref_added_to_a_link_without_one() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi")))
    (change,) = build(desired(dc(A, "Acme", dl("Bio", "Hi", "bio"))), actual).changes
    assert (change.action, change.fields) == (Action.REGENERATE, ("ref",))
    assert change.to_dict()["before"]["ref"] is None
    assert change.to_dict()["after"]["ref"] == "bio"


def test_remove_undeclared_link_is_irreversible() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Keep", "Hi"), link(2, "Gone", "Bye", "old")))
    plan = build(desired(dc(A, "Acme", dl("Keep", "Hi"))), actual)
    assert plan.changes == (
        Change(
            Action.REMOVE,
            Resource.LINK,
            A,
            "Gone",
            ("link",),
            lv("Gone", "Bye", "old"),
            None,
            f"c-{A}",
            "2",
            version=1,
        ),
    )
    assert plan.changes[0].irreversible
    assert plan.to_dict()["changes"][0]["irreversible"] is True


def test_links_match_by_title_ignoring_case_before_content() -> None:
    # "bio" matches by title though "Other" has the same content.
    actual = workspace(channel(A, "Acme", link(1, "Other", "Hi"), link(2, "BIO", "Old")))
    plan = build(desired(dc(A, "Acme", dl("bio", "Hi"))), actual)
    assert [(c.action, c.title, c.link_id) for c in plan.changes] == [
        (Action.REGENERATE, "bio", "2"),
        (Action.REMOVE, "Other", "1"),
    ]


def test_renames_pair_in_file_order_with_existing_in_creation_order() -> None:
    # Listed out of creation order on purpose: seq decides, not the tuple order.
    actual = workspace(
        channel(
            A,
            "Acme",
            link(9, "Third", "Hi", "r"),
            link(2, "First", "Hi", "r"),
            link(5, "Second", "Hi", "r"),
        )
    )
    want = desired(dc(A, "Acme", dl("B", "Hi", "r"), dl("A", "Hi", "r")))
    plan = build(want, actual)
    assert [(c.action, c.title, c.link_id) for c in plan.changes] == [
        (Action.UPDATE, "B", "2"),
        (Action.UPDATE, "A", "5"),
        (Action.REMOVE, "Third", "9"),
    ]


def test_rename_needs_the_same_ref_and_message() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Old", "Hi", "bio")))
    plan = build(desired(dc(A, "Acme", dl("New", "Hi", "bio2"))), actual)
    assert [c.action for c in plan.changes] == [Action.CREATE, Action.REMOVE]


def test_duplicate_existing_titles_match_the_oldest_and_remove_the_rest() -> None:
    actual = workspace(channel(A, "Acme", link(4, "bio", "Hi"), link(3, "Bio", "Hi")))
    plan = build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    assert [(c.action, c.link_id) for c in plan.changes] == [(Action.REMOVE, "4")]


def test_changes_come_in_file_order_then_removals_in_creation_order() -> None:
    actual = workspace(
        channel(A, "Acme", link(1, "Z gone", "a"), link(2, "Keep", "b"), link(3, "A gone", "c")),
        channel("beta", "Beta", link(4, "Bio", "x", account="beta")),
    )
    want = desired(
        dc("beta", "Beta 2", dl("Bio", "y")),
        dc(A, "Acme", dl("New", "n"), dl("keep", "b")),
    )
    plan = build(want, actual)
    assert [(c.channel, c.action, c.resource, c.title) for c in plan.changes] == [
        ("beta", Action.RENAME, Resource.CHANNEL, None),
        ("beta", Action.REGENERATE, Resource.LINK, "Bio"),
        (A, Action.CREATE, Resource.LINK, "New"),
        (A, Action.UPDATE, Resource.LINK, "keep"),
        (A, Action.REMOVE, Resource.LINK, "Z gone"),
        (A, Action.REMOVE, Resource.LINK, "A gone"),
    ]
    assert plan.summary == {
        "connect": 0,
        "rename": 1,
        "create": 1,
        "update": 1,
        "regenerate": 1,
        "remove": 2,
    }


def test_duplicate_ref_is_a_warning() -> None:
    want = desired(
        dc(A, "Acme", dl("A", "1", "bio"), dl("B", "2", "bio"), dl("C", "3", "ad"), dl("D", "4"))
    )
    plan = build(want, workspace(channel(A, "Acme")), can_connect=True)
    assert plan.diagnostics == (
        Diagnostic(
            Severity.WARNING,
            "duplicate-ref",
            A,
            "ref bio is used by 2 links (A, B): tracking can't tell them apart",
        ),
    )
    assert plan.applicable


# --- disconnected channels --------------------------------------------------------------------


def test_disconnected_channel_with_changes_is_an_error() -> None:
    actual = workspace(channel(A, "Acme", status=ChannelStatus.DISCONNECTED))
    plan = build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert plan.diagnostics == (
        Diagnostic(
            Severity.ERROR,
            "channel-disconnected",
            A,
            f"channel {A} is disconnected: its 1 change is blocked. {DISCONNECTED_FIX}",
        ),
    )
    assert "remove the channel and connect it again" in DISCONNECTED_FIX
    assert "TikTok Business Center" in DISCONNECTED_FIX
    assert not plan.applicable


def test_disconnected_channel_counts_every_blocked_change() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Old", "x"), status=ChannelStatus.DISCONNECTED))
    plan = build(desired(dc(A, "Acme 2", dl("Bio", "Hi"))), actual)
    assert len(plan.changes) == 3
    assert plan.diagnostics[0].message.startswith(
        f"channel {A} is disconnected: its 3 changes are blocked. "
    )


def test_disconnected_channel_without_changes_is_a_warning() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi"), status=ChannelStatus.DISCONNECTED))
    plan = build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    assert plan.changes == ()
    assert plan.diagnostics == (
        Diagnostic(
            Severity.WARNING,
            "channel-disconnected",
            A,
            f"channel {A} is disconnected: {DISCONNECTED_FIX}",
        ),
    )
    assert plan.applicable


def test_removing_a_disconnected_channel_is_allowed() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi"), status=ChannelStatus.DISCONNECTED))
    plan = build(desired(dc(A, remove=True)), actual)
    assert [(c.action, c.resource) for c in plan.changes] == [(Action.REMOVE, Resource.CHANNEL)]
    assert plan.diagnostics == ()
    assert plan.applicable


# --- the bulk-change guard --------------------------------------------------------------------


def _ten(n: int = 10) -> WorkspaceState:
    return workspace(channel(A, "Acme", *(link(i, f"L{i}", f"m{i}") for i in range(1, n + 1))))


def _keep(n: int, *, regenerate: int = 0, remove: int = 0, **kw: object) -> DesiredState:
    """n existing links L1..Ln: the first `regenerate` get a new message, the last `remove`
    are dropped."""
    links = [
        dl(f"L{i}", f"m{i}" + ("!" if i <= regenerate else "")) for i in range(1, n - remove + 1)
    ]
    return desired(dc(A, "Acme", *links, **kw))  # type: ignore[arg-type]


def _guard(plan: Plan) -> list[Diagnostic]:
    return [d for d in plan.diagnostics if d.code == "too-many-changes"]


def test_bulk_guard_exactly_30_percent_passes() -> None:
    plan = build(_keep(10, regenerate=2, remove=1), _ten())
    assert plan.summary["regenerate"] == 2 and plan.summary["remove"] == 1
    assert _guard(plan) == []
    assert plan.applicable


def test_bulk_guard_over_30_percent_is_an_error_naming_the_counts() -> None:
    plan = build(_keep(10, regenerate=2, remove=2), _ten())
    assert _guard(plan) == [
        Diagnostic(
            Severity.ERROR,
            "too-many-changes",
            A,
            f"channel {A}: the plan regenerates 2 and removes 2 of its 10 links (40%, over the "
            "30% limit). Review it, then plan or apply with --force, or raise max_change_pct "
            "for this channel in the config",
        )
    ]
    assert not plan.applicable


def test_bulk_guard_ignores_channels_with_fewer_than_10_links() -> None:
    plan = build(_keep(9, remove=9), _ten(9))
    assert plan.summary["remove"] == 9
    assert plan.diagnostics == ()
    assert plan.applicable


def test_bulk_guard_ignores_creates_and_updates() -> None:
    want = desired(
        dc(
            A,
            "Acme",
            *(dl(f"l{i}", f"m{i}") for i in range(1, 11)),
            *(dl(f"N{i}", "n") for i in range(20)),
        )
    )
    plan = build(want, _ten())
    assert plan.summary["update"] == 10 and plan.summary["create"] == 20
    assert plan.diagnostics == ()


@pytest.mark.parametrize(
    ("pct", "changed", "ok"),
    [(50, 5, True), (50, 6, False), (0, 1, False), (0, 0, True), (100, 10, True)],
)
def test_bulk_guard_respects_max_change_pct(pct: float, changed: int, ok: bool) -> None:
    plan = build(_keep(10, regenerate=changed, max_change_pct=pct), _ten())
    assert plan.applicable is ok
    assert [d.severity for d in _guard(plan)] == ([] if ok else [Severity.ERROR])


def test_bulk_guard_message_with_a_custom_limit() -> None:
    plan = build(_keep(20, remove=11, max_change_pct=50), _ten(20))
    assert _guard(plan)[0].message.startswith(
        f"channel {A}: the plan regenerates 0 and removes 11 of its 20 links (55%, over the 50% "
        "limit)."
    )


@pytest.mark.parametrize(
    ("links", "removed", "pct", "shown"),
    [(200, 61, 30, "30.5"), (21, 3, 14, "14.3"), (1000, 301, 30, "30.1"), (21, 7, 30, "33")],
)
def test_bulk_guard_never_shows_a_share_rounded_down_to_the_limit(
    links: int, removed: int, pct: float, shown: str
) -> None:
    plan = build(_keep(links, remove=removed, max_change_pct=pct), _ten(links))
    (guard,) = _guard(plan)
    assert f"of its {links} links ({shown}%, over the {pct}% limit)" in guard.message


def test_force_turns_the_bulk_guard_into_a_warning() -> None:
    plan = build(_keep(10, regenerate=5), _ten(), force=True)
    assert _guard(plan) == [
        Diagnostic(
            Severity.WARNING,
            "too-many-changes",
            A,
            f"channel {A}: the plan regenerates 5 and removes 0 of its 10 links (50%, over the "
            "30% limit); forced",
        )
    ]
    assert plan.applicable
    assert plan.forced


def test_force_does_not_lift_other_errors() -> None:
    plan = build(
        desired(dc(A, remove=True, protect=True)), workspace(channel(A, "Acme")), force=True
    )
    assert not plan.applicable


def test_any_error_makes_the_whole_plan_inapplicable() -> None:
    actual = workspace(
        channel(A, "Acme"), channel("beta", "Beta", status=ChannelStatus.DISCONNECTED)
    )
    want = desired(dc(A, "Acme", dl("Bio", "Hi")), dc("beta", "Beta 2"))
    plan = build(want, actual)
    assert [c.channel for c in plan.changes] == [A, "beta"]
    assert [d.code for d in plan.errors] == ["channel-disconnected"]
    assert not plan.applicable


def test_diagnostics_are_sorted_errors_first() -> None:
    actual = workspace(
        channel("zzz", "Z"),
        channel("beta", "Beta", status=ChannelStatus.DISCONNECTED),
    )
    want = desired(
        dc("beta", "Beta", dl("A", "1", "r"), dl("B", "2", "r")),
        dc("gone", remove=True),
        dc("new1", "New"),
    )
    plan = build(want, actual)
    assert codes(plan) == [
        ("error", "channel-disconnected", "beta"),
        ("error", "channel-not-connected", "new1"),
        ("warning", "duplicate-ref", "beta"),
        ("info", "channel-absent", "gone"),
        ("info", "unmanaged-channel", "zzz"),
    ]


# --- the state fingerprint --------------------------------------------------------------------


def test_fingerprint_covers_declared_channels_only() -> None:
    want = desired(dc(A, "Acme", dl("Bio", "Hi")))
    base = workspace(channel(A, "Acme", link(1, "Bio", "Hi")))
    fp = build(want, base).state_fingerprint
    other_added = workspace(*base.channels, channel("zzz", "Z"))
    assert build(want, other_added).state_fingerprint == fp
    edited = workspace(channel(A, "Acme", link(1, "Bio", "Hi!")))
    assert build(want, edited).state_fingerprint != fp
    renamed = workspace(channel(A, "Acme 2", link(1, "Bio", "Hi")))
    assert build(want, renamed).state_fingerprint != fp
    disconnected = workspace(
        channel(A, "Acme", link(1, "Bio", "Hi"), status=ChannelStatus.DISCONNECTED)
    )
    assert build(want, disconnected).state_fingerprint != fp
    assert len(fp) == 64


def test_fingerprint_survives_a_lone_surrogate_from_a_json_api() -> None:
    actual = workspace(channel(A, "Acme \ud800", link(1, "Bio", "Hi")))
    plan = planner.build(desired(dc(A, "Acme")), actual)
    assert len(plan.state_fingerprint) == 64


# --- determinism ------------------------------------------------------------------------------


def _busy() -> tuple[DesiredState, WorkspaceState]:
    actual = workspace(
        channel("zoo", "Zoo"),
        channel(
            "AcmePets",
            "Acme",
            link(3, "Ad | summer", "Sale <b>now</b>", "fb_ad", account="AcmePets"),
            link(1, "Bio", "Hi\nthere", "bio", account="AcmePets"),
            link(2, "Gone", "x", account="AcmePets"),
        ),
        channel("old", "Old", link(4, "t", "m", account="old")),
        channel("off", "Off", status=ChannelStatus.DISCONNECTED),
    )
    want = desired(
        dc(
            "acmepets",
            "Acme (US)",
            dl("bio", "Hi\nthere", "bio"),
            dl("Ad | summer", "Sale!", "fb_ad"),
            dl("New", "😀 & `x`", "bio"),
        ),
        dc("old", remove=True),
        dc("newone", "New One", dl("Poster", "QR")),
        dc("off", "Off"),
    )
    return want, actual


def _all_renderings(plan: Plan) -> list[str]:
    return [
        text.render_plan(plan, color=False),
        text.render_plan(plan, color=True),
        markdown.render_plan(plan),
        render_json.render_plan(plan),
    ]


def test_build_twice_gives_the_same_plan_and_the_same_bytes() -> None:
    want, actual = _busy()
    first = build(want, actual, can_connect=True)
    second = build(want, actual, can_connect=True)
    assert first == second
    assert first.to_dict() == second.to_dict()
    assert _all_renderings(first) == _all_renderings(second)


def test_the_order_the_workspace_lists_things_in_does_not_matter() -> None:
    want, actual = _busy()
    shuffled = WorkspaceState(
        tuple(
            type(c)(c.id, c.account, c.display_name, c.status, tuple(reversed(c.links)))
            for c in reversed(actual.channels)
        )
    )
    first = build(want, actual, can_connect=True)
    second = build(want, shuffled, can_connect=True)
    assert _all_renderings(first) == _all_renderings(second)


def test_busy_plan_in_full() -> None:
    want, actual = _busy()
    plan = build(want, actual, can_connect=True)
    assert [(c.channel, str(c.action), c.title) for c in plan.changes] == [
        ("AcmePets", "rename", None),
        ("AcmePets", "update", "bio"),
        ("AcmePets", "regenerate", "Ad | summer"),
        ("AcmePets", "create", "New"),
        ("AcmePets", "remove", "Gone"),
        ("old", "remove", None),
        ("newone", "connect", None),
        ("newone", "create", "Poster"),
    ]
    assert codes(plan) == [
        ("warning", "duplicate-ref", "AcmePets"),
        ("warning", "channel-disconnected", "off"),
        ("info", "unmanaged-channel", "zoo"),
    ]
    assert plan.applicable
