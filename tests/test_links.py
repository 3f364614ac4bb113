"""Selecting links (workspace or a config's channels, --channel, --title), the URL changes of a
saved plan and their status. Literal states; the saved plan is a real one, made and read back
by plan.saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler import links
from reconciler import plan as planner
from reconciler.errors import SelectionError
from reconciler.links import ChangeStatus
from reconciler.model import ChannelStatus, WorkspaceRef, link_url
from reconciler.plan import saved as planfile

from .helpers import channel, dc, desired, dl, link, memory_backend, seed, workspace

STATE = workspace(
    channel(
        "acmepets",
        "Acme Pets",
        link(3, "Ad - Summer Sale", "Sale!", "summer"),
        link(1, "VIP Program", "Join our VIP program", "vip"),
    ),
    channel("acmepets.global", "Global", link(2, "Bio", "Hola", "bio", account="acmepets.global")),
    channel("empty", "Nothing yet"),
    channel(
        "zoo", "Zoo", link(4, "Poster", "Hi", account="zoo"), status=ChannelStatus.DISCONNECTED
    ),
)


def titles(rows: tuple[links.LinkRow, ...] | list[links.LinkRow]) -> list[tuple[str, str]]:
    return [(r.channel, r.title) for r in rows]


def test_every_link_of_the_workspace_in_a_fixed_order() -> None:
    selection = links.select(STATE)
    assert titles(selection.rows) == [
        ("acmepets", "VIP Program"),  # creation order within a channel
        ("acmepets", "Ad - Summer Sale"),
        ("acmepets.global", "Bio"),
        ("zoo", "Poster"),
    ]
    vip = selection.rows[0]
    assert (vip.ref, vip.message, vip.url) == (
        "vip",
        "Join our VIP program",
        link_url("acmepets", "vip", "Join our VIP program"),
    )
    assert (vip.display_name, vip.status) == ("Acme Pets", ChannelStatus.CONNECTED)
    assert selection.rows[-1].status is ChannelStatus.DISCONNECTED
    assert [c.account for c in selection.channels] == [
        "acmepets",
        "acmepets.global",
        "empty",
        "zoo",
    ]
    assert selection.notes == ()


def test_the_links_of_the_channels_a_config_declares() -> None:
    want = desired(
        dc("ZOO", "Zoo", dl("Poster", "Hi")),
        dc("acmepets", "Acme Pets"),
        dc("acmepets.global", remove=True),  # being removed: not listed
        dc("newshop", "New Shop", dl("Welcome", "Hi!")),
    )
    selection = links.select(STATE, want)
    assert titles(selection.rows) == [
        ("acmepets", "VIP Program"),
        ("acmepets", "Ad - Summer Sale"),
        ("zoo", "Poster"),
    ]
    (note,) = selection.notes
    assert "newshop is declared but not in the workspace" in note


def test_pending_changes_counts_the_link_changes_still_to_apply() -> None:
    same = desired(
        dc(
            "acmepets",
            "Acme Pets",
            dl("VIP Program", "Join our VIP program", "vip"),
            dl("Ad - Summer Sale", "Sale!", "summer"),
        )
    )
    assert links.pending_changes(same, STATE) == 0
    edited = desired(dc("acmepets", "Renamed", dl("VIP Program", "Join now", "vip")))
    assert links.pending_changes(edited, STATE) == 2  # a regeneration and a removal


def test_narrow_to_channels_and_titles_ignoring_case() -> None:
    selection = links.select(STATE)
    known = [c.account for c in selection.channels]
    rows = links.narrow(selection.rows, known_channels=known, channels=["ACMEPETS"])
    assert titles(rows) == [("acmepets", "VIP Program"), ("acmepets", "Ad - Summer Sale")]
    rows = links.narrow(selection.rows, known_channels=known, titles=["vip program", "BIO"])
    assert titles(rows) == [("acmepets", "VIP Program"), ("acmepets.global", "Bio")]
    # a channel with no links is known: an empty selection, not an error
    assert links.narrow(selection.rows, known_channels=known, channels=["empty"]) == ()


def test_an_unknown_channel_or_title_lists_what_exists() -> None:
    selection = links.select(STATE)
    known = [c.account for c in selection.channels]
    with pytest.raises(SelectionError) as err:
        links.narrow(selection.rows, known_channels=known, channels=["acmepets", "nope"])
    assert str(err.value) == (
        "no channel 'nope' in the workspace; "
        "channels: 'acmepets', 'acmepets.global', 'empty', 'zoo'"
    )
    with pytest.raises(SelectionError) as err:
        links.narrow(selection.rows, known_channels=known, channels=["acmepets"], titles=["Bio"])
    assert str(err.value) == (
        "no link titled 'Bio' in channel 'acmepets'; titles: 'Ad - Summer Sale', 'VIP Program'"
    )
    with pytest.raises(SelectionError, match=re.escape("titles: (none)")):
        links.narrow(selection.rows, known_channels=known, channels=["empty"], titles=["x"])


def test_a_long_list_of_names_is_cut() -> None:
    known = [f"shop{i:02d}" for i in range(30)]
    with pytest.raises(SelectionError) as err:
        links.narrow((), known_channels=known, channels=["x\x1b[31m"])
    message = str(err.value)
    assert message.endswith("and 10 more")
    assert "\x1b" not in message  # a hostile name is shown, not run


# --- URL changes of a saved plan ----------------------------------------------------------


def saved_plan(tmp_path: Path) -> planfile.SavedPlan:
    """A real saved plan: VIP regenerated (message), Sale regenerated (message) with its
    title's case changed."""
    want = desired(
        dc(
            "acmepets",
            "Acme Pets",
            dl("VIP Program", "Join our VIP program today", "vip"),
            dl("ad - summer sale", "Sale 2!", "summer"),
        ),
        dc("acmepets.global", "Global", dl("Bio", "Hola", "bio")),
    )
    the_plan = planner.build(want, STATE, workspace=WorkspaceRef("local", "/ws.db", "1"))
    path = tmp_path / "p.json"
    path.write_text(planfile.dumps(the_plan), encoding="utf-8")
    return planfile.load(path)


def test_the_regenerations_recorded_in_a_saved_plan(tmp_path: Path) -> None:
    saved = saved_plan(tmp_path)
    regens = links.regenerations(saved)
    assert [(r.channel, r.old_title, r.title) for r in regens] == [
        ("acmepets", "VIP Program", "VIP Program"),
        ("acmepets", "Ad - Summer Sale", "ad - summer sale"),
    ]
    vip = regens[0]
    assert vip.old_url == link_url("acmepets", "vip", "Join our VIP program")
    assert vip.new_url == link_url("acmepets", "vip", "Join our VIP program today")


def test_url_changes_say_whether_each_is_applied(tmp_path: Path) -> None:
    saved = saved_plan(tmp_path)
    regens = links.regenerations(saved)

    before = links.url_changes(regens, STATE)
    assert [r.status for r in before] == [ChangeStatus.NOT_APPLIED] * 2
    assert [r.current_url for r in before] == [r.old_url for r in before]
    assert before[0].where == "wherever it was shared (bio, ads, stories, print)"
    assert before[1].where == "ads"

    with memory_backend() as backend:
        seed(backend, STATE)
        from reconciler import apply as applier

        fresh = planner.build(saved.desired, backend.read(), can_connect=True)
        applier.run(fresh, backend)
        after = links.url_changes(regens, backend.read())
        assert [r.status for r in after] == [ChangeStatus.APPLIED] * 2
        assert [r.new_url for r in after] == [r.new_url for r in regens]
        assert [r.current_url for r in after] == [r.new_url for r in regens]
        assert [(r.channel, r.title) for r in after] == [
            ("acmepets", "VIP Program"),
            ("acmepets", "ad - summer sale"),
        ]

        # edited again since: neither URL; then removed: no current URL
        state = backend.read()
        ch = state.channel("acmepets")
        assert ch is not None
        vip = next(lk for lk in ch.links if lk.title == "VIP Program")
        backend.update_link(
            ch.id, vip.id, title=vip.title, ref=vip.ref, message="Third try", version=vip.version
        )
        sale = next(lk for lk in ch.links if lk.title == "ad - summer sale")
        backend.remove_link(ch.id, sale.id, version=sale.version)
        later = links.url_changes(regens, backend.read())
        assert [r.status for r in later] == [ChangeStatus.CHANGED_SINCE] * 2
        assert later[0].current_url == link_url("acmepets", "vip", "Third try")
        assert later[1].current_url is None


def test_url_changes_of_a_channel_gone_from_the_workspace(tmp_path: Path) -> None:
    saved = saved_plan(tmp_path)
    rows = links.url_changes(links.regenerations(saved), workspace())
    assert [(r.status, r.current_url) for r in rows] == [(ChangeStatus.CHANGED_SINCE, None)] * 2
