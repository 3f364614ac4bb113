"""One fixture file per failure mode, each with its exact messages at exact positions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler import config
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.model import CONTROL_RULE, MESSAGE_CONTROL_RULE
from tests.helpers import FIXTURES, located

CONFIGS = FIXTURES / "configs"


_ACCOUNT_HELP = "a TikTok username: 2-24 letters, digits, '_' or '.', not ending in '.'"


_CONTROL = (
    "YAML syntax error: control characters are not allowed (found U+0007); "
    "remove it, or write it as an escape in a double-quoted string"
)


#: fixture name -> every problem it must produce, as "LINE:COL: message", in order.
EXPECTED: dict[str, list[str]] = {
    "bad-account-duplicate-case": [
        "5:14: account 'AcmePets' is declared twice (first at line 3); "
        "accounts match ignoring case",
    ],
    "bad-account-missing": ["3:5: channel is missing required key 'account'"],
    "bad-account-newline": [f"3:14: account 'acmepets\\n' is not valid: {_ACCOUNT_HELP}"],
    "bad-account-pattern": [f"3:14: account 'acme pets' is not valid: {_ACCOUNT_HELP}"],
    "bad-account-trailing-dot": [f"3:14: account 'acmepets.' is not valid: {_ACCOUNT_HELP}"],
    "bad-billion-laughs": [
        "8:12: aliases expand to more than 100,000 nodes (a 'billion laughs' file?); "
        "write the data out instead",
    ],
    "bad-binary-bytes": ["3:115: not valid UTF-8 (byte 0x80): save the file as UTF-8"],
    "bad-binary-tag": [
        "7:18: tag '!!binary' is not allowed: only plain YAML data (quote the value instead)"
    ],
    "bad-blank-message": ["7:18: message must not be blank"],
    "bad-channel-not-mapping": ["3:5: channel must be a mapping, not a string"],
    "bad-channels-missing": ["1:1: the top level is missing required key 'channels'"],
    "bad-channels-not-list": ["3:3: channels must be a list, not a mapping"],
    "bad-complex-key": ["3:3: a key must be a plain string"],
    "bad-control-character": [f"4:25: {_CONTROL}"],
    "bad-control-character-escaped": [
        "4:19: display_name has a control character, U+001B CONTROL (character 10): remove it "
        f"({CONTROL_RULE})",
        "6:16: title has a control character, U+0000 CONTROL (character 4): remove it "
        f"({CONTROL_RULE})",
        "9:23: renamed_from has a control character, U+0085 CONTROL (character 4): remove it "
        f"({CONTROL_RULE})",
        "10:18: message has 2 control characters: U+0007 CONTROL (character 5), "
        f"U+009B CONTROL (character 15): remove them ({MESSAGE_CONTROL_RULE})",
    ],
    "bad-custom-tag": [
        "7:18: tag '!secret' is not allowed: only plain YAML data (quote the value instead)"
    ],
    "bad-deep-nesting": ["3:71: lists and mappings nest more than 64 levels deep"],
    "bad-display-name-blank": ["4:19: display_name must not be blank"],
    "bad-display-name-missing": [
        "3:5: channel is missing required key 'display_name' (unless remove: true)"
    ],
    "bad-display-name-number": [
        '4:19: display_name must be a string, not a number; quote it: display_name: "42"'
    ],
    "bad-duplicate-key": ["3:1: duplicate key 'version' (first at line 1, column 1)"],
    "bad-empty": ["1:1: the file is empty: it needs 'version: 1' and 'channels'"],
    "bad-empty-message": ["7:17: message must be a string, not an empty value"],
    "bad-link-not-mapping": ["6:9: link must be a mapping, not a string"],
    "bad-links-not-list": ["6:7: links must be a list, not a string"],
    "bad-max-change-pct-bool": ["5:21: max_change_pct must be a number, not a boolean"],
    "bad-max-change-pct-nan": ["5:21: max_change_pct must be between 0 and 100, not .nan"],
    "bad-max-change-pct-range": ["5:21: max_change_pct must be between 0 and 100, not 101"],
    "bad-merge-key": [
        "6:5: channel is missing required key 'display_name' (unless remove: true)",
        "6:5: merge keys (<<) are not supported: write the keys out",
    ],
    "bad-message-list": ["7:18: message must be a string, not a list"],
    "bad-message-missing": ["6:9: link is missing required key 'message'"],
    "bad-message-too-long-emoji": [
        "7:18: message is 501 characters long (UTF-16 code units: an emoji counts 2); "
        "the limit is 500",
    ],
    "bad-multiple-documents": ["3:1: the file holds more than one YAML document; keep one"],
    "bad-non-string-key": ["3:1: key '2025' is read as a number: quote it"],
    "bad-not-utf8": ["4:24: not valid UTF-8 (byte 0xe9): save the file as UTF-8"],
    "bad-null-message": ['7:18: message must be a string, not null; quote it: message: "null"'],
    "bad-only-comments": ["1:1: the file is empty: it needs 'version: 1' and 'channels'"],
    "bad-protect-yes": ["5:14: protect must be true or false, not 'yes'"],
    "bad-python-tag": [
        "2:11: tag '!!python/object/apply:os.system' is not allowed: only plain YAML data "
        "(quote the value instead)",
        "2:44: channel must be a mapping, not a string",
    ],
    "bad-ref-number": ['7:14: ref must be a string, not a number; quote it: ref: "0123"'],
    "bad-ref-null": [
        "7:14: ref must be a string, not null; for a link without a referral tag, leave ref out "
        '(or quote it, ref: "null", if the tag is that word)',
        "10:13: ref must be a string, not an empty value; for a link without a referral tag, "
        "leave ref out",
    ],
    "bad-ref-pattern": [
        "7:14: ref 'bio link' has ' ' (character 4), which TikTok doesn't support in a ref: "
        "only letters "
        "A-Z a-z, digits 0-9, '_', '-' and '='"
    ],
    "bad-ref-dot": [
        "7:14: ref 'bio.link' has '.' (character 4), which TikTok doesn't support in a ref: "
        "only letters "
        "A-Z a-z, digits 0-9, '_', '-' and '='"
    ],
    "bad-ref-too-long": [
        "7:14: ref is 2,086 characters long percent-encoded, as in the link's URL "
        "(each '=' is 3: %3D); TikTok's limit is 2,083"
    ],
    "bad-number-huge": [
        "5:21: max_change_pct must be between 0 and 100, not 0x"
        + "f" * 78
        + "... (5,002 characters)"
    ],
    "bad-remove-string": [
        "3:5: channel is missing required key 'display_name' (unless remove: true)",
        "4:13: remove must be true or false, not a string",
    ],
    "bad-remove-with-links": ["5:5: a channel with 'remove: true' takes no links"],
    "bad-tab-indent": [
        "4:1: YAML syntax error: while scanning a plain scalar (started at line 3, column 14): "
        "found a tab character that violates indentation",
    ],
    "bad-title-bool": ['6:16: title must be a string, not a boolean; quote it: title: "yes"'],
    "bad-title-bidi-control": [
        "6:16: title has a bidirectional control, U+202E RIGHT-TO-LEFT OVERRIDE (character 1): "
        "it can make the title read differently from what it holds; remove it"
    ],
    "bad-title-yaml11-boolean": [
        "6:16: title must be a string, not a boolean (YAML 1.1 reads y as one); "
        'quote it: title: "y"'
    ],
    "bad-title-yaml12-number": [
        "6:16: title must be a string, not a number (YAML 1.2 reads 1e3 as one); "
        'quote it: title: "1e3"'
    ],
    "bad-title-date": [
        '6:16: title must be a string, not a date; quote it: title: "2025-06-01"',
    ],
    "bad-title-duplicate-case": [
        "8:16: title 'BIO LINK' is used twice in this channel (first at line 6); "
        "titles match ignoring case",
    ],
    "bad-title-number": ['6:16: title must be a string, not a number; quote it: title: "2025"'],
    "bad-title-too-long": ["6:16: title is 101 characters long; the limit is 100"],
    "bad-top-level-list": [
        "1:1: the top level must be a mapping with 'version' and 'channels', not a list"
    ],
    "bad-top-level-scalar": [
        "1:1: the top level must be a mapping with 'version' and 'channels', not a string"
    ],
    "bad-undefined-alias": ["4:19: alias *name refers to no anchor"],
    "bad-unknown-key": ["5:5: unknown key 'protected'; did you mean 'protect'?"],
    "bad-unknown-top-level-key": [
        "1:1: the top level is missing required key 'channels'",
        "2:1: unknown key 'chanels'; did you mean 'channels'?",
    ],
    "bad-utf16-bom": [
        "1:1: the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8"
    ],
    "bad-version-2": ["1:10: unsupported version 2: this reconciler reads 'version: 1'"],
    "bad-version-missing": ["1:1: the top level is missing required key 'version'"],
    "bad-version-string": ["1:10: version must be the number 1, not a string: write 'version: 1'"],
    "bad-yaml-syntax": [
        "5:1: YAML syntax error: while parsing a flow sequence (started at line 4, column 19): "
        "did not find expected ',' or ']'",
    ],
    "bad-prune-yes": ["5:12: prune must be true or false, not 'no'"],
    "bad-renamed-from-declared": [
        "7:23: renamed_from 'Ad - Black Friday' is the title of another link of this channel "
        "(line 9): a link can't be renamed from one that stays; remove it from renamed_from"
    ],
    "bad-renamed-from-twice": [
        "12:13: renamed_from 'ad - black friday' is also claimed by the link at line 7: only "
        "one link can be renamed from a title"
    ],
    "bad-renamed-from-type": [
        "7:23: renamed_from must be a string or a list, not a number",
        "10:23: renamed_from must name at least one title, or be left out",
        "13:24: renamed_from must not be blank",
        '13:30: renamed_from must be a string, not a boolean; quote it: renamed_from: "yes"',
    ],
    "ok-ref-equals": [],
    "ok-utf8-bom": [],
    "warn-duplicate-ref": [
        "10:14: warning: ref 'bio' is also used at line 7: tracking can't tell these links apart"
    ],
    "warn-invisible-character": [
        "7:18: warning: message has a character that shows nothing, U+200B ZERO WIDTH SPACE "
        "(character 3): a plan shows it only as an escape; remove it unless it is meant"
    ],
    "warn-not-composed": [
        "6:16: warning: title is not in Unicode's composed form (NFC): U+0301 COMBINING ACUTE "
        "ACCENT; it looks the same as the composed text SleekFlow's UI writes but is other "
        "text (another title, message or URL): write the composed characters"
    ],
    "warn-look-alike-titles": [
        "8:16: warning: title 'VIP Pr\u043egram' looks the same as title 'VIP Program' (line 6) "
        "(U+043E CYRILLIC SMALL LETTER O for U+006F LATIN SMALL LETTER O): a reader can't tell "
        "these links apart"
    ],
}


def problems_in_file(path: Path) -> list[Problem]:
    """Every problem of a config file, whether reading or checking finds it."""
    try:
        text = config.read_text(path)
    except ConfigError as exc:
        return exc.problems
    return config.check(text, str(path))[1]


def test_every_fixture_has_expectations_and_every_expectation_a_fixture() -> None:
    on_disk = {p.stem for p in CONFIGS.glob("*.yaml")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_reports_exact_messages_at_exact_positions(name: str) -> None:
    path = CONFIGS / f"{name}.yaml"
    problems = problems_in_file(path)
    assert [located(p) for p in problems] == EXPECTED[name]
    assert all(p.path == str(path) for p in problems)


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if n.startswith("bad-")))
def test_bad_fixture_fails_to_load_with_every_problem(name: str) -> None:
    path = CONFIGS / f"{name}.yaml"
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert [located(p) for p in info.value.problems] == EXPECTED[name]
    assert (info.value.line, info.value.col) == (
        info.value.problems[0].line,
        info.value.problems[0].col,
    )


def test_duplicate_ref_fixture_is_a_warning_and_still_loads() -> None:
    path = CONFIGS / "warn-duplicate-ref.yaml"
    state, problems = config.check(config.read_text(path), str(path))
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert problems[0].code == "duplicate-ref"
    assert state is not None
    assert [link.ref for link in state.channels[0].links] == ["bio", "bio"]


def test_utf8_bom_is_skipped_and_positions_start_after_it() -> None:
    state = config.load(CONFIGS / "ok-utf8-bom.yaml")
    assert state.channels == ()
    _, problems = config.check(
        config.read_text(CONFIGS / "ok-utf8-bom.yaml").replace("1", "2"), "w"
    )
    assert [(p.line, p.col) for p in problems] == [(1, 10)]


def test_billion_laughs_fails_in_well_under_a_second() -> None:
    text = config.read_text(CONFIGS / "bad-billion-laughs.yaml")
    start = time.perf_counter()
    state, problems = config.check(text, "w")
    elapsed = time.perf_counter() - start
    assert state is None
    assert [p.code for p in problems] == ["alias-expansion"]
    assert elapsed < 1.0
