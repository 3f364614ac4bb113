"""The issue's two stories: what a reviewer can't see is warned, and every plan format shows
the difference (a zero-width space added to a message, a title with a Cyrillic o)."""

from __future__ import annotations

import json

from reconciler import config
from reconciler import plan as planner
from reconciler.render import markdown, text
from reconciler.render.json import render_plan as render_json
from tests.helpers import channel, dc, desired, dl, link, workspace

A = "acmepets"
ZWSP = "\u200b"
CYRILLIC_O = "\u043e"


def test_a_zero_width_space_added_to_a_message_shows_in_every_plan_format() -> None:
    actual = workspace(channel(A, "Acme", link(1, "Bio", "Hi there", "bio")))
    want = desired(dc(A, "Acme", dl("Bio", f"Hi{ZWSP} there", "bio")))
    plan = planner.build(want, actual)
    [change] = plan.changes
    assert change.action == "regenerate"
    assert [d.code for d in plan.diagnostics] == ["invisible-character"]
    assert "U+200B ZERO WIDTH SPACE" in plan.diagnostics[0].message
    shown = text.render_plan(plan)
    assert 'message: "Hi there" -> "Hi\\u200b there"' in shown
    assert ZWSP not in shown
    md = markdown.render_plan(plan)
    assert "Hi\\u200b there" in md and ZWSP not in md
    assert json.loads(render_json(plan))["changes"][0]["after"]["message"] == f"Hi{ZWSP} there"


def test_the_zero_width_story_warns_in_the_config_at_its_position() -> None:
    text_ = (
        "version: 1\nchannels:\n  - account: acmepets\n    display_name: Acme\n    links:\n"
        f"      - title: Bio\n        ref: bio\n        message: Hi{ZWSP} there\n"
    )
    state, problems = config.check(text_, "w.yaml")
    assert state is not None
    assert [(p.line, p.col, p.code, p.severity) for p in problems] == [
        (8, 18, "invisible-character", "warning")
    ]


def test_a_look_alike_title_is_warned_in_the_plan_naming_the_difference() -> None:
    actual = workspace(channel(A, "Acme", link(1, "VIP Program", "Join")))
    want = desired(
        dc(A, "Acme", dl("VIP Program", "Join"), dl(f"VIP Pr{CYRILLIC_O}gram", "Join us"))
    )
    plan = planner.build(want, actual)
    assert [c.action for c in plan.changes] == ["create"]
    [diag] = plan.diagnostics
    assert diag.code == "look-alike-title"
    assert "(they differ in U+043E CYRILLIC SMALL LETTER O)" in diag.message
    assert "U+043E CYRILLIC SMALL LETTER O" in text.render_plan(plan)
    assert "U+043E CYRILLIC SMALL LETTER O" in markdown.render_plan(plan)


def test_a_bidi_control_is_escaped_in_titles_of_every_format() -> None:
    actual = workspace(channel(A, "Acme"))
    want = desired(dc(A, "Acme", dl("\u202eknil oiB", "Hi")))
    plan = planner.build(want, actual)
    assert "\\u202eknil oiB" in text.render_plan(plan)
    assert "\\u202eknil oiB" in markdown.render_plan(plan)
    assert "\u202e" not in text.render_plan(plan) + markdown.render_plan(plan)


def test_no_warning_for_text_everyone_sees() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    actual = workspace(channel(A, "Acme"))
    want = desired(dc(A, "Acme", dl("Family day", f"Bring the {family}!"), dl("Sale", "Hi")))
    assert planner.build(want, actual).diagnostics == ()


def test_decomposed_text_is_warned_in_the_plan_and_in_the_config_at_its_position() -> None:
    """An editor that saves 'é' as 'e' + U+0301 (NFD) makes a title or message that looks
    the same as the workspace's and is other text: the plan was 'create "Café promo"' and
    'remove "Café promo"' (or 'update "Café promo" -> "Café promo"') with nothing to say
    why."""
    composed, decomposed = "Caf\u00e9 promo", "Cafe\u0301 promo"
    actual = workspace(channel(A, "Acme", link(1, composed, f"Hi {composed}")))
    plan = planner.build(desired(dc(A, "Acme", dl(decomposed, f"Hi {decomposed}"))), actual)
    assert [c.action for c in plan.changes] == ["create", "remove"]
    warned = [d for d in plan.diagnostics if d.code == "not-composed"]
    assert len(warned) == 2  # the title and the message
    assert all("U+0301 COMBINING ACUTE ACCENT" in d.message for d in warned)
    assert "not-composed" in text.render_plan(plan)
    text_ = (
        "version: 1\nchannels:\n  - account: acmepets\n    display_name: Acme\n    links:\n"
        f"      - title: {decomposed}\n        message: Hi {composed}\n"
    )
    state, problems = config.check(text_, "w.yaml")
    assert state is not None
    assert [(p.line, p.col, p.code, p.severity) for p in problems] == [
        (6, 16, "not-composed", "warning")
    ]
    assert "U+0301 COMBINING ACUTE ACCENT" in problems[0].message


def test_an_edit_to_text_that_looks_the_same_is_warned() -> None:
    """'update "Sale" -> "Sale"' (a Cyrillic S, U+0405) or a regeneration whose messages read the
    same gave the reviewer nothing to see: each such edit is a warning naming the
    difference, in every format."""
    dze = "\u0405"
    actual = workspace(
        channel(A, "Acme", link(1, "Sale", "Summer sale", "s"), link(2, "Bio", "Hi Bob"))
    )
    want = desired(
        dc(A, "Acme", dl(f"{dze}ale", "Summer sale", "s"), dl("Bio", f"Hi B{CYRILLIC_O}b"))
    )
    plan = planner.build(want, actual)
    assert [c.action for c in plan.changes] == ["update", "regenerate"]
    warned = [d for d in plan.diagnostics if d.code == "look-alike-change"]
    assert [d.severity for d in warned] == ["warning", "warning"]
    title, message = sorted(warned, key=lambda d: "message of" in d.message)
    assert "the title of link" in title.message
    assert "U+0405 CYRILLIC CAPITAL LETTER DZE" in title.message
    assert "the message of link 'Bio'" in message.message
    assert "U+043E CYRILLIC SMALL LETTER O" in message.message
    for shown in (text.render_plan(plan), markdown.render_plan(plan)):
        assert "look-alike-change" in shown and "CYRILLIC CAPITAL LETTER DZE" in shown
    # an edit anyone can see is not warned
    plain = planner.build(desired(dc(A, "Acme", dl("Sales", "Summer sale", "s"))), actual)
    assert [d.code for d in plain.diagnostics if d.code == "look-alike-change"] == []
