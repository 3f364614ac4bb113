"""The checks of a config: each problem in words, at its position (``config.checks``)."""

from __future__ import annotations

import textwrap

import pytest

from reconciler import config
from reconciler.errors import Severity
from tests.helpers import CHANNEL, TEN_MISTAKES, located


def problems_of(text: str) -> list[tuple[int | None, int | None, str]]:
    _, problems = config.check(textwrap.dedent(text), "w.yaml")
    return [(p.line, p.col, p.message) for p in problems]


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
              - {title: b, ref: bio, message: z}
        """
    )
    state, problems = config.check(text, "w")
    assert state is not None
    assert [(p.severity, p.line, p.col) for p in problems] == [(Severity.WARNING, 7, 25)]
    assert str(problems[0]).startswith("w:7:25: warning: ref 'bio' is also used at line 6")


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("    protect: 1\n", "5:14: protect must be true or false, not a number"),
        ("    protect: ~\n", "5:14: protect must be true or false, not null"),
        ("    protect: on\n", "5:14: protect must be true or false, not 'on'"),
        ("    protect: [true]\n", "5:14: protect must be true or false, not a list"),
        ("    remove: {a: 1}\n", "5:13: remove must be true or false, not a mapping"),
        ('    max_change_pct: "10"\n', "5:21: max_change_pct must be a number, not a string"),
        ("    max_change_pct: -1\n", "5:21: max_change_pct must be between 0 and 100, not -1"),
        ("    max_change_pct: .inf\n", "5:21: max_change_pct must be between 0 and 100, not .inf"),
        ("    links: {}\n", "5:12: links must be a list, not a mapping"),
        ("    links:\n      - [a]\n", "6:9: link must be a mapping, not a list"),
        (
            "    links:\n      - {title: [a], message: m}\n",
            "6:17: title must be a string, not a list",
        ),
        (
            "    links:\n      - {title: t, message: 1.5}\n",
            '6:29: message must be a string, not a number; quote it: message: "1.5"',
        ),
        (
            "    links:\n      - {title: t, message: m, ref: yes}\n",
            '6:37: ref must be a string, not a boolean; quote it: ref: "yes"',
        ),
        (
            "    links:\n      - {title: t, message: m, ref: ''}\n",
            "6:37: ref is empty: for a link without a referral tag, leave ref out",
        ),
        (
            '    links:\n      - {title: t, message: m, ref: "x\\n"}\n',
            "6:37: ref 'x\\n' has '\\n' (character 2), which TikTok doesn't support in a ref: "
            "only letters "
            "A-Z a-z, digits 0-9, '_', '-' and '='",
        ),
        (
            '    links:\n      - {title: "", message: m}\n',
            "6:17: title must not be blank",
        ),
    ],
)
def test_wrong_type_or_value_in_a_channel(tail: str, expected: str) -> None:
    _, problems = config.check(CHANNEL + tail, "w")
    assert [located(p) for p in problems] == [expected]


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("true", "1:10: version must be the number 1, not a boolean: write 'version: 1'"),
        ("~", "1:10: version must be the number 1, not null: write 'version: 1'"),
        ("[1]", "1:10: version must be the number 1, not a list: write 'version: 1'"),
        ("1.5", "1:10: unsupported version 1.5: this reconciler reads 'version: 1'"),
    ],
)
def test_version_must_be_the_number_1(version: str, expected: str) -> None:
    _, problems = config.check(f"version: {version}\nchannels: []\n", "w")
    assert [located(p) for p in problems] == [expected]


def test_top_level_null_document() -> None:
    _, problems = config.check("--- ~\n", "w")
    assert [located(p) for p in problems] == [
        "1:5: the top level must be a mapping with 'version' and 'channels', not a null"
    ]


def test_display_name_longer_than_100_characters() -> None:
    _, problems = config.check(
        CHANNEL.replace("display_name: A", "display_name: " + "é" * 101), "w"
    )
    assert [located(p) for p in problems] == [
        "4:19: display_name is 101 characters long; the limit is 100"
    ]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    _, problems = config.check(CHANNEL + "    zzz: 1\n", "w")
    assert [located(p) for p in problems] == [
        "5:5: unknown key 'zzz' (allowed: account, display_name, links, max_change_pct, "
        "protect, prune, remove)"
    ]


def test_same_ref_in_different_channels_is_not_a_warning() -> None:
    text = (
        "version: 1\nchannels:\n"
        "  - {account: a1, display_name: A, links: [{title: t, ref: bio, message: m}]}\n"
        "  - {account: a2, display_name: B, links: [{title: t, ref: bio, message: m}]}\n"
    )
    state, problems = config.check(text, "w")
    assert problems == []
    assert state is not None


def test_account_length_bounds() -> None:
    def errors(account: str) -> list[str]:
        _, problems = config.check(CHANNEL.replace("acme", account), "w")
        return [p.code for p in problems]

    assert errors("ab") == []
    assert errors("a" * 24) == []
    assert errors("a") == ["pattern"]
    assert errors("a" * 25) == ["pattern"]
    assert errors("a.b_c.1") == []


def test_nan_is_not_a_valid_threshold() -> None:
    # A float NaN compares false with everything, so the schema's minimum/maximum let it by.
    _, problems = config.check(CHANNEL + "    max_change_pct: .NaN\n", "w")
    assert [located(p) for p in problems] == [
        "5:21: max_change_pct must be between 0 and 100, not .NaN"
    ]


@pytest.mark.parametrize("raw", ["1.0", "0x1", "+1", "0b1"])
def test_version_must_be_written_as_1(raw: str) -> None:
    _, problems = config.check(f"version: {raw}\nchannels: []\n", "w.yaml")
    assert [str(p) for p in problems] == [f"w.yaml:1:10: write 'version: 1', not '{raw}'"]


def test_version_true_is_one_error_not_two() -> None:
    _, problems = config.check("version: true\nchannels: []\n", "w.yaml")
    assert len(problems) == 1
    assert "not a boolean" in problems[0].message
