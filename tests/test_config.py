"""Config loading: every failure mode has a fixture, an exact message and an exact position."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler import config
from reconciler.config import json_schema as configschema
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.model import DesiredChannel, DesiredLink

from .conftest import EXAMPLE, FIXTURES, ROOT

CONFIGS = FIXTURES / "configs"


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


# --- one fixture per failure mode ----------------------------------------------------------

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
    "bad-ref-pattern": ["7:14: ref 'bio link' is not valid: 1-64 characters of A-Z a-z 0-9 _ - ."],
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
    "ok-utf8-bom": [],
    "warn-duplicate-ref": [
        "10:14: warning: ref 'bio' is also used at line 7: tracking can't tell these links apart"
    ],
}


def problems_in_file(path: Path) -> list[Problem]:
    """Every problem of a config file, whether reading or checking finds it."""
    try:
        text = config.read_text(path)
    except ConfigError as exc:
        return exc.problems
    return config.check(text, str(path))[1]


def located(problem: Problem) -> str:
    """``str(problem)`` without the leading path: "LINE:COL: message"."""
    return str(problem).removeprefix(f"{problem.path}:")


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


# --- reading the file ----------------------------------------------------------------------


def read_error(path: str | Path, **kwargs: int) -> str:
    with pytest.raises(ConfigError) as info:
        config.read_text(path, **kwargs)
    assert len(info.value.problems) == 1
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert read_error(path) == f"{path}: no such file"


def test_missing_directory_in_path(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir.yaml"
    assert read_error(path) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert read_error(tmp_path) == f"{tmp_path}: is a directory, not a config file"


def test_empty_file_name() -> None:
    assert read_error("") == ": no file name given"


def test_nul_byte_in_file_name() -> None:
    # shown escaped: a file name can't put a control character on the terminal
    assert read_error("bad\0name.yaml").startswith("bad\\u0000name.yaml: cannot read: ")


def test_a_file_name_cannot_split_the_line_or_colour_it() -> None:
    error = read_error("a\nb\x1b[31m.yaml")
    assert error.startswith("a\\nb\\u001b[31m.yaml: no such file")
    assert "\n" not in error and "\x1b" not in error


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads a file whatever its mode"
)
def test_unreadable_file(write) -> None:
    path = write("version: 1\nchannels: []\n")
    path.chmod(0)
    try:
        assert read_error(path) == f"{path}: permission denied"
    finally:
        path.chmod(0o644)


def test_permission_denied_is_mapped_even_as_root(write, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 can't stop root, so the OS refusal is produced at the one call that opens the file.
    path = write("version: 1\nchannels: []\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert read_error(path) == f"{path}: permission denied"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_read_error_from_the_os_is_a_config_error() -> None:
    # Reading /proc/self/mem at offset 0 fails with EIO: a real OSError that isn't about access.
    assert read_error("/proc/self/mem") == "/proc/self/mem: cannot read: Input/output error"


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    line = b"  - account: acmepets\n    display_name: Acme Pets\n"
    with path.open("wb") as handle:
        handle.write(b"version: 1\nchannels:\n")
        handle.write(line * (50 * 2**20 // len(line) + 1))
    start = time.perf_counter()
    message = read_error(path)
    assert time.perf_counter() - start < 0.5
    assert message == f"{path}: file is 50.0 MiB; the limit is 32 MiB"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_device_is_refused_after_the_limit() -> None:
    # /dev/zero has no size to check; the read itself must stop.
    start = time.perf_counter()
    message = read_error("/dev/zero", max_bytes=4096)
    assert time.perf_counter() - start < 0.5
    assert message == "/dev/zero: file is larger than the 4,096 bytes limit"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipe_is_read_and_checked(tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as handle:
            handle.write(b"version: 1\nchannels: []\n")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert config.read_text(fifo) == "version: 1\nchannels: []\n"
    finally:
        writer.join(timeout=5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("x".encode("utf-16"), "UTF-16"),
        ("x".encode("utf-16-be").join([b"\xfe\xff", b""]), "UTF-16"),
        ("x".encode("utf-32"), "UTF-32"),
    ],
)
def test_utf16_and_utf32_are_named(write, data: bytes, message: str) -> None:
    path = write(data)
    assert read_error(path) == (
        f"{path}:1:1: the file is {message} (it starts with a {message} byte order mark): "
        "save it as UTF-8"
    )


def test_invalid_utf8_position_counts_characters_before_it(write) -> None:
    path = write("version: 1\n# café ☕ ".encode() + b"\xff\n")
    assert read_error(path) == f"{path}:2:10: not valid UTF-8 (byte 0xff): save the file as UTF-8"


# --- wrong types everywhere ----------------------------------------------------------------

CHANNEL = "version: 1\nchannels:\n  - account: acme\n    display_name: A\n"


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
            "6:37: ref '' is not valid: 1-64 characters of A-Z a-z 0-9 _ - .",
        ),
        (
            '    links:\n      - {title: t, message: m, ref: "x\\n"}\n',
            "6:37: ref 'x\\n' is not valid: 1-64 characters of A-Z a-z 0-9 _ - .",
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
        "protect, remove)"
    ]


def test_remove_true_without_display_name_or_links_loads() -> None:
    state = config.check("version: 1\nchannels:\n  - {account: old, remove: true}\n", "w")[0]
    assert state is not None
    assert state.channels[0].remove is True
    assert state.channels[0].display_name is None


def test_defaults_and_explicit_values_reach_the_desired_state() -> None:
    text = CHANNEL + "    max_change_pct: 12.5\n    protect: false\n"
    state, problems = config.check(text, "w")
    assert problems == []
    assert state is not None
    assert state.channels[0].max_change_pct == 12.5
    assert state.channels[0].protect is False
    default = config.check(CHANNEL, "w")[0]
    assert default is not None and default.channels[0].max_change_pct == 30.0


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


def test_utf16_len_counts_code_units() -> None:
    assert config.utf16_len("abc") == 3
    assert config.utf16_len("日本") == 2
    assert config.utf16_len("😀") == 2
    assert config.utf16_len("👩‍👩‍👧") == 8


def test_check_never_returns_state_with_errors_and_sorts_problems() -> None:
    state, problems = config.check(TEN_MISTAKES, "w")
    assert state is None
    assert problems == sorted(problems, key=Problem.sort_key)


def test_check_is_deterministic() -> None:
    first = config.check(TEN_MISTAKES, "w")[1]
    second = config.check(TEN_MISTAKES, "w")[1]
    assert first == second


def test_ecma_dollar_only_matches_at_the_very_end() -> None:
    regex = configschema._ecma_regex("^[a-z$]+$")
    assert regex.pattern == "^[a-z$]+\\Z"
    assert regex.search("ab$")
    assert not regex.search("ab\n")
    assert configschema._ecma_regex(r"^a\$$").pattern == r"^a\$\Z"


def test_nan_is_not_a_valid_threshold() -> None:
    # A float NaN compares false with everything, so the schema's minimum/maximum let it by.
    _, problems = config.check(CHANNEL + "    max_change_pct: .NaN\n", "w")
    assert [located(p) for p in problems] == [
        "5:21: max_change_pct must be between 0 and 100, not .NaN"
    ]


# --- the JSON Schema -------------------------------------------------------------------------

PACKAGED_SCHEMA = ROOT / "reconciler" / "schemas" / "workspace.schema.json"
ROOT_SCHEMA = ROOT / "schemas" / "workspace.schema.json"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = config.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    assert [e.message for e in meta.iter_errors(schema)] == []


def test_example_validates_against_the_schema() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(config.schema()).iter_errors(data))
    assert errors == []


def test_root_schema_and_packaged_schema_are_one_file() -> None:
    assert ROOT_SCHEMA.read_bytes() == PACKAGED_SCHEMA.read_bytes()
    assert ROOT_SCHEMA.resolve() == PACKAGED_SCHEMA.resolve()
    assert json.loads(PACKAGED_SCHEMA.read_text(encoding="utf-8")) == config.schema()


def test_example_points_editors_at_the_schema() -> None:
    first_line = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../schemas/workspace.schema.json"
    assert (EXAMPLE.parent / "../schemas/workspace.schema.json").resolve() == (
        PACKAGED_SCHEMA.resolve()
    )


def test_schema_and_code_agree_on_a_non_mapping_channel() -> None:
    # The schema's if/then/else must not add a second, confusing error for a non-mapping
    # channel (an editor using the schema would show it).
    errors = list(
        Draft202012Validator(config.schema()).iter_errors({"version": 1, "channels": ["x"]})
    )
    assert [e.validator for e in errors] == ["type"]


@pytest.mark.parametrize("raw", ["1.0", "0x1", "+1", "0b1"])
def test_version_must_be_written_as_1(raw: str) -> None:
    _, problems = config.check(f"version: {raw}\nchannels: []\n", "w.yaml")
    assert [str(p) for p in problems] == [f"w.yaml:1:10: write 'version: 1', not '{raw}'"]


def test_version_true_is_one_error_not_two() -> None:
    _, problems = config.check("version: true\nchannels: []\n", "w.yaml")
    assert len(problems) == 1
    assert "not a boolean" in problems[0].message


# --- the fast validity check agrees with the schema's own validator -------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
) | st.sampled_from(
    ["", " ", "\t", "\u3000", "\u180e", "\u200b", "a\n", "acme.", "ok_1", "x" * 101]
)
_scalar = _text | st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False)
_link = st.dictionaries(st.sampled_from(["title", "ref", "message", "extra"]), _scalar, max_size=4)
_channel = st.fixed_dictionaries(
    {},
    optional={
        "account": _scalar,
        "display_name": _scalar,
        "protect": _scalar,
        "remove": _scalar,
        "max_change_pct": _scalar,
        "links": st.lists(_link, max_size=3) | _scalar,
        "colour": _scalar,
    },
)
_document = st.fixed_dictionaries(
    {}, optional={"version": _scalar, "channels": st.lists(_channel, max_size=3) | _scalar}
)


@given(_document)
@settings(max_examples=400, deadline=None)
def test_fast_validity_check_agrees_with_the_schema_validator(data: dict) -> None:
    python_says_valid = not any(configschema.validator_class()(config.schema()).iter_errors(data))
    assert configschema.known_valid(data) == python_says_valid


_shaped_link = st.fixed_dictionaries(
    {"title": _text, "message": _text}, optional={"ref": _text | st.sampled_from(["a-b.c_1"])}
)
_shaped_document = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "channels": st.lists(
            st.fixed_dictionaries(
                {"account": _text | st.sampled_from(["acme", "a.b_c"]), "display_name": _text},
                optional={"links": st.lists(_shaped_link, max_size=3)},
            ),
            max_size=2,
        ),
    }
)


@given(_shaped_document)
@settings(max_examples=400, deadline=None)
def test_fast_validity_check_agrees_on_well_shaped_documents(data: dict) -> None:
    python_says_valid = not any(configschema.validator_class()(config.schema()).iter_errors(data))
    assert configschema.known_valid(data) == python_says_valid


def test_the_size_limit_can_be_raised_for_huge_workspaces(write, monkeypatch) -> None:
    path = write("version: 1\nchannels: []\n" + "# padding\n" * 2000)
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "0.01")
    with pytest.raises(ConfigError, match="the limit is"):
        config.read_text(path)
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "1")
    assert config.read_text(path).startswith("version: 1")
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "lots")
    with pytest.raises(ConfigError, match="RECONCILER_MAX_CONFIG_MB: must be a number"):
        config.read_text(path)


@pytest.mark.parametrize(
    ("name", "blank"),
    [("\x85", False), ("\x1c", False), ("\ufeff", True), ("\u3000", True), (" \t", True)],
)
def test_blank_means_what_it_means_in_json_schema(name: str, blank: bool) -> None:
    # ECMA-262's white space, as an editor using the schema sees it: U+0085 and U+001C are
    # not in it (Python's \s would say they are), U+FEFF is. Both validators must agree.
    data = {"version": 1, "channels": [{"account": "acme", "display_name": name}]}
    python_says_valid = not any(configschema.validator_class()(config.schema()).iter_errors(data))
    assert python_says_valid is not blank
    assert configschema.known_valid(data) is not blank


def test_load_with_digest_hashes_the_bytes_it_read() -> None:
    import hashlib

    state, digest = config.load_with_digest(EXAMPLE)
    assert state == config.load(EXAMPLE)
    assert digest == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
