from __future__ import annotations

import textwrap

import pytest

from reconciler import config
from reconciler.errors import ConfigError, Severity
from reconciler.model import DesiredChannel, DesiredLink

from .conftest import EXAMPLE


def problems_of(text: str) -> list[tuple[int | None, int | None, str]]:
    _, problems = config.check(textwrap.dedent(text), "w.yaml")
    return [(p.line, p.col, p.message) for p in problems]


def test_example_loads_into_desired_state() -> None:
    state = config.load(EXAMPLE)
    accounts = [c.account for c in state.channels]
    assert accounts == ["acmepets", "acmepets.global"]
    first = state.channels[0]
    assert first.protect is True
    assert first.links[1] == DesiredLink(
        title="June Giveaway Bio Link",
        ref="bio_link",
        message="Hi! I'd like to join the June giveaway.",
    )


def test_minimal_config() -> None:
    state, problems = config.check("version: 1\nchannels: []\n", "w.yaml")
    assert problems == []
    assert state is not None and state.channels == ()


def test_removed_channel_needs_no_display_name() -> None:
    state, problems = config.check(
        "version: 1\nchannels:\n  - account: oldbrand\n    remove: true\n", "w"
    )
    assert problems == []
    assert state is not None
    assert state.channels == (DesiredChannel(account="oldbrand", remove=True),)


TEN_MISTAKES = """\
version: 1
channels:
  - account: acme.
    display_name: "   "
    colour: red
    links:
      - title: yes
        message: hi
      - title: Promo
        ref: "bad ref"
        message: hi
      - title: promo
        message: hi
        mesage: typo
  - account: second
    links:
      - title: ok
        message: [1, 2]
  - account: SECOND
    display_name: dup
    max_change_pct: 150
"""


def test_ten_distinct_mistakes_each_at_its_position() -> None:
    found = problems_of(TEN_MISTAKES)
    assert (
        [(line, col) for line, col, _ in found]
        == [
            (3, 14),  # account ends with '.'
            (4, 19),  # blank display_name
            (5, 5),  # unknown key colour
            (7, 16),  # title read as boolean
            (10, 14),  # ref pattern
            (12, 16),  # duplicate title ignoring case
            (14, 9),  # unknown key mesage
            (15, 5),  # display_name missing
            (18, 18),  # message is a list
            (19, 14),  # duplicate account
            (21, 21),  # max_change_pct out of range
        ][: len(found)]
    )
    assert len(found) == 11
    messages = [m for _, _, m in found]
    assert "quote it" in messages[3]
    assert "did you mean 'message'?" in messages[6]


def test_load_raises_one_error_with_all_problems(write) -> None:
    path = write(TEN_MISTAKES)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert len(info.value.problems) == 11
    assert str(info.value).splitlines()[0].startswith(f"{path}:3:14: ")
    assert str(info.value).splitlines()[-1] == "11 errors found"


@pytest.mark.parametrize(
    ("message", "ok"),
    [("a" * 500, True), ("a" * 501, False), ("😀" * 250, True), ("😀" * 250 + "a", False)],
)
def test_message_length_counts_utf16_code_units(message: str, ok: bool) -> None:
    text = (
        "version: 1\nchannels:\n  - account: acme\n    display_name: A\n    links:\n"
        f'      - title: t\n        message: "{message}"\n'
    )
    state, problems = config.check(text, "w")
    assert (state is not None) is ok
    if not ok:
        assert problems[0].line == 7 and problems[0].col == 18
        assert "the limit is 500" in problems[0].message


def test_duplicate_ref_is_a_warning_not_an_error() -> None:
    text = textwrap.dedent(
        """\
        version: 1
        channels:
          - account: acme
            display_name: A
            links:
              - {title: a, ref: bio, message: x}
              - {title: b, ref: bio, message: y}
        """
    )
    state, problems = config.check(text, "w")
    assert state is not None
    assert [(p.severity, p.line, p.col) for p in problems] == [(Severity.WARNING, 7, 25)]
    assert str(problems[0]).startswith("w:7:25: warning: ref 'bio' is also used at line 6")
