"""The text plan and apply report: symbols, the URLs of regenerations and removals, the
summary line, colour only when asked, and no terminal control sequence from data."""

from __future__ import annotations

import re

import pytest

from reconciler import plan as planner
from reconciler.apply import ApplyResult, Outcome
from reconciler.model import ChannelStatus, DesiredState, WorkspaceState
from reconciler.plan import DISCONNECTED_FIX, Plan
from reconciler.render.text import q, render_apply, render_plan, render_status, summary_line
from tests.helpers import channel, dc, desired, dl, every_action_plan, link, workspace

A = "acmepets"


def _plan(want: DesiredState, actual: WorkspaceState, **kw: bool) -> Plan:
    return planner.build(want, actual, **kw)


def _every() -> Plan:
    want, actual = every_action_plan()
    return planner.build(want, actual, can_connect=True)


EVERY_ACTION_TEXT = """\
acmepets
    ~ rename channel display name "Acme" -> "Acme Pets"
  -/+ regenerate "Bio"  NEW URL (message changed)
      message: "Hi" -> "Hello there"
      old URL: https://tiktok.me/acmepets?ref=bio&message=Hi
      new URL: https://tiktok.me/acmepets?ref=bio&message=Hello%20there
      (the old URL keeps working with the OLD message: replace it wherever it is shared)
    ~ update "Old title" -> "New title"  (URL unchanged)
    + create "Fresh"
      ref: "fb_ad"
      message: "Join our VIP program"
      url: https://tiktok.me/acmepets?ref=fb_ad&message=Join%20our%20VIP%20program
    - remove "Gone"  IRREVERSIBLE
      url: https://tiktok.me/acmepets?ref=old&message=Bye%20now
      (the URL keeps working with its message, but is no longer tracked)

oldbrand
    - remove channel "Old Brand"  IRREVERSIBLE
      disconnects the TikTok account from SleekFlow and removes its 1 link; Flow Builder flows \
using it may break
      the URLs of its links keep working with their messages, but are no longer tracked:
        "Poster": https://tiktok.me/oldbrand?message=QR

newshop
    + connect channel, display name "New Shop"
    + create "Welcome"
      ref: (none)
      message: "Hi!"
      url: https://tiktok.me/newshop?message=Hi%21

warning[duplicate-ref]: ref fb_ad is used by 2 links (Ad summer, Fresh): tracking \
can't tell them apart
info[unmanaged-channel]: channel zoo (Zoo, connected) is not in the config: left alone

Plan: 1 channel to connect, 1 channel to rename, 2 to create, 1 to update, 1 to regenerate \
(NEW URL), 2 to remove (IRREVERSIBLE).
"""


def test_every_action_in_full() -> None:
    assert render_plan(_every()) == EVERY_ACTION_TEXT


def test_regenerate_shows_the_symbol_both_urls_and_the_changed_fields() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi", "bio")))
    out = render_plan(_plan(desired(dc(A, "Acme", dl("Bio", "Hi all", "bio2"))), actual))
    assert out.splitlines()[1:8] == [
        '  -/+ regenerate "Bio"  NEW URL (ref, message changed)',
        '      ref: "bio" -> "bio2"',
        '      message: "Hi" -> "Hi all"',
        f"      old URL: https://tiktok.me/{A}?ref=bio&message=Hi",
        f"      new URL: https://tiktok.me/{A}?ref=bio2&message=Hi%20all",
        "      (the old URL keeps working with the OLD message: replace it wherever it is shared)",
        "",
    ]
    assert out.endswith("Plan: 1 to regenerate (NEW URL).\n")


def test_a_removed_ref_shows_none() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi", "bio")))
    out = render_plan(_plan(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual))
    assert '      ref: "bio" -> (none)' in out.splitlines()


def test_removal_shows_irreversible_and_the_url_that_keeps_working() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Gone", "Bye")))
    out = render_plan(_plan(desired(dc(A, "Acme")), actual))
    assert out == (
        f"{A}\n"
        '    - remove "Gone"  IRREVERSIBLE\n'
        f"      url: https://tiktok.me/{A}?message=Bye\n"
        "      (the URL keeps working with its message, but is no longer tracked)\n"
        "\n"
        "Plan: 1 to remove (IRREVERSIBLE).\n"
    )


def test_no_changes() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi")))
    assert render_plan(_plan(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)) == "No changes.\n"


def test_an_inapplicable_plan_says_so_after_the_errors() -> None:
    actual = workspace(channel(A, "Acme", status=ChannelStatus.DISCONNECTED))
    out = render_plan(_plan(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual))
    assert out.splitlines()[-4:] == [
        f"error[channel-disconnected]: channel {A} is disconnected: its 1 change is blocked. "
        f"{DISCONNECTED_FIX}",
        "",
        "Plan: 1 to create.",
        "This plan cannot be applied: 1 error above.",
    ]


@pytest.mark.parametrize(
    ("summary", "line"),
    [
        ({}, "No changes."),
        ({"create": 1}, "Plan: 1 to create."),
        ({"connect": 2, "rename": 1}, "Plan: 2 channels to connect, 1 channel to rename."),
        (
            {"update": 3, "regenerate": 2, "remove": 1},
            "Plan: 3 to update, 2 to regenerate (NEW URL), 1 to remove (IRREVERSIBLE).",
        ),
    ],
)
def test_summary_line(summary: dict[str, int], line: str) -> None:
    plan = _plan(DesiredState(), WorkspaceState())
    object.__setattr__(plan, "summary", {**plan.summary, **summary})
    assert summary_line(plan) == line


def test_summary_line_counts_the_every_action_plan() -> None:
    assert summary_line(_every()) == (
        "Plan: 1 channel to connect, 1 channel to rename, 2 to create, 1 to update, "
        "1 to regenerate (NEW URL), 2 to remove (IRREVERSIBLE)."
    )


# --- colour -------------------------------------------------------------------------------


def test_colour_only_when_asked() -> None:
    plan = _every()
    plain = render_plan(plan, color=False)
    coloured = render_plan(plan, color=True)
    assert "\x1b" not in plain
    assert "\x1b[35;1m-/+\x1b[0m" in coloured
    assert "\x1b[31;1mIRREVERSIBLE\x1b[0m" in coloured
    assert "\x1b[35;1mNEW URL\x1b[0m" in coloured
    # Without the escape sequences the two are the same text.
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_data_cannot_inject_terminal_sequences() -> None:
    # A workspace (an API) can hold anything; a config can write "\e" in a quoted string.
    actual = workspace(
        channel(A, "Acme", link(1, "Bio\x1b[2J", "Hi")),
        channel("zoo", "Zoo\x1b]0;pwned\x07\u202e", status=ChannelStatus.DISCONNECTED),
    )
    want = desired(dc(A, "Acme\x9b31m", dl("New\nline", "a\x1bb", "r"), dl("X\rY", "m", "r")))
    plan = _plan(want, actual)
    for out in (render_plan(plan), re.sub(r"\x1b\[[0-9;]*m", "", render_plan(plan, color=True))):
        for char in "\x1b\x9b\x07\u202e\r":
            assert char not in out
    plain = render_plan(plan)
    assert "\x1b" not in plain
    assert '    + create "New\\nline"' in plain.splitlines()
    assert (
        "info[unmanaged-channel]: channel zoo (Zoo\\u001b]0;pwned\\u0007\\u202e, disconnected) "
        "is not in the config: left alone" in plain.splitlines()
    )
    assert (
        "warning[duplicate-ref]: ref r is used by 2 links (New\\nline, X\\rY): "
        "tracking can't tell them apart" in (plain.splitlines())
    )


def test_q() -> None:
    assert q(None) == "(none)"
    assert q("") == '""'
    assert q('say "hi"\n') == '"say \\"hi\\"\\n"'


# --- the apply report ---------------------------------------------------------------------


def test_apply_report_with_url_changes() -> None:
    plan = _every()
    regen = next(c for c in plan.changes if c.action == "regenerate")
    create = next(c for c in plan.changes if c.title == "Welcome")
    result = ApplyResult(
        (
            Outcome(create, "https://tiktok.me/newshop?message=Hi%21"),
            Outcome(regen, "https://tiktok.me/acmepets?ref=bio&message=Hello%20there"),
        )
    )
    assert render_apply(result) == (
        "  + create newshop: Welcome\n"
        "      https://tiktok.me/newshop?message=Hi%21\n"
        "-/+ regenerate acmepets: Bio\n"
        "      https://tiktok.me/acmepets?ref=bio&message=Hello%20there\n"
        "\n"
        "Replace these URLs (the old ones keep working with the OLD message):\n"
        "  acmepets / Bio  (likely in: TikTok bio)\n"
        "    old: https://tiktok.me/acmepets?ref=bio&message=Hi\n"
        "    new: https://tiktok.me/acmepets?ref=bio&message=Hello%20there\n"
        "\n"
        "Apply complete: 2 changes applied.\n"
    )
    assert "\x1b" not in render_apply(result) and "\x1b" in render_apply(result, color=True)


def test_apply_report_of_a_failure() -> None:
    plan = _every()
    rename, regen, *rest = plan.changes
    result = ApplyResult((Outcome(rename),), tuple(rest), regen, "boom\nsecond \x1b line")
    assert render_apply(result) == (
        "  ~ rename acmepets: channel\n"
        "\n"
        "FAILED: regenerate acmepets: Bio\n"
        "  boom\n"
        "  second \\u001b line\n"
        f"1 change applied, {1 + len(rest)} not applied. The workspace is consistent; fix the "
        "cause and run apply again to finish.\n"
    )


def test_apply_report_of_nothing() -> None:
    assert render_apply(ApplyResult(())) == "Apply complete: 0 changes applied.\n"


# --- status -------------------------------------------------------------------------------


def test_status_lists_channels_and_troubleshoots_disconnected_ones() -> None:
    state = workspace(
        channel(A, "Acme", link(1, "Bio", "Hi")),
        channel("off", "Off", status=ChannelStatus.DISCONNECTED),
    )
    assert render_status(state) == (
        f'{A}  connected  1 link  "Acme"\n'
        'off       disconnected  0 links  "Off"\n'
        f"          {DISCONNECTED_FIX}\n"
    )
    assert render_status(WorkspaceState()) == "No channels in this workspace.\n"
