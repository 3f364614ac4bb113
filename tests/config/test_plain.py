"""Text is text in YAML 1.1 and in YAML 1.2: each value of the rule, as a title, a ref, a
message (and the other text keys), refused with the "quote it" message by both paths."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler import config
from reconciler.config.plain import NOT_TEXT_BY_FIRST, Reading, is_text, reads_as
from reconciler.config.yaml_events import RESOLVERS, STR_TAG

#: The issue's values, with what the first reader that doesn't read them as text makes of them.
NOT_TEXT = {
    "y": Reading("boolean", "YAML 1.1"),
    "n": Reading("boolean", "YAML 1.1"),
    "Y": Reading("boolean", "YAML 1.1"),
    "N": Reading("boolean", "YAML 1.1"),
    "yes": Reading("boolean", "YAML 1.1"),
    "off": Reading("boolean", "YAML 1.1"),
    "~": Reading("null", "YAML 1.1"),
    "null": Reading("null", "YAML 1.1"),
    "0o17": Reading("number", "YAML 1.2"),
    "0x1F": Reading("number", "YAML 1.1"),
    "1e3": Reading("number", "YAML 1.2"),
    "12e03": Reading("number", "YAML 1.2"),
    "+.5": Reading("number", "YAML 1.2"),
    ".inf": Reading("number", "YAML 1.1"),
    "1_000": Reading("number", "YAML 1.1"),
}
#: Plain scalars both readers read as text.
TEXT = ["hello", "Nope", "yesterday", "bio_link", "campaign=spring", "=", "1.2.3", "0x", "e3"]
TEXT += ["1e", ".", "-", "+", "0o", "0o8", "nULL", "Off-season", "y2k", "on-air", "1st"]


@pytest.mark.parametrize("raw", sorted(NOT_TEXT))
def test_each_value_is_read_as_what_one_reader_reads_it(raw: str) -> None:
    assert reads_as(raw) == NOT_TEXT[raw]
    assert not is_text(raw)


@pytest.mark.parametrize("raw", TEXT)
def test_text_in_both_readers_is_text(raw: str) -> None:
    assert reads_as(raw) is None
    assert is_text(raw)


LINK = "version: 1\nchannels:\n  - account: acme\n    display_name: Acme\n    links:\n"
LINE = {"title": 6, "ref": 7, "message": 8}
COL = {"title": 16, "ref": 14, "message": 18}


def _link(**values: str) -> str:
    fields = {"title": "T", "ref": "r", "message": "M"} | values
    return LINK + "".join(
        f"      {'- ' if i == 0 else '  '}{key}: {value}\n"
        for i, (key, value) in enumerate(fields.items())
    )


@pytest.mark.parametrize("field", ["title", "ref", "message"])
@pytest.mark.parametrize("raw", sorted(NOT_TEXT))
def test_each_value_is_refused_as_a_title_a_ref_and_a_message(field: str, raw: str) -> None:
    text = _link(**{field: raw})
    state, problems = config.check(text, "w.yaml")
    assert state is None
    assert config.check_full(text, "w.yaml") == (state, problems)
    at = [p for p in problems if (p.line, p.col) == (LINE[field], COL[field])]
    assert at and all(p.code in ("type", "pattern") for p in at), problems
    [message] = [p.message for p in at if p.code == "type"]
    assert message.startswith(f"{field} must be a string, not ")
    if field == "ref" and NOT_TEXT[raw].kind == "null":
        assert "leave ref out" in message  # the fix for a null ref is to leave it out
    else:
        assert f'quote it: {field}: "{raw}"' in message
    # quoted, it is text again (a ref only when it has a ref's characters)
    quoted = config.check(_link(**{field: f'"{raw}"'}), "w.yaml")
    assert (quoted[0] is not None) == (field != "ref" or raw.replace("_", "").isalnum()), quoted


def test_the_reader_is_named_when_only_one_reads_it_so() -> None:
    problems = config.check(_link(title="0o17"), "w.yaml")[1]
    assert [str(p) for p in problems] == [
        "w.yaml:6:16: title must be a string, not a number (YAML 1.2 reads 0o17 as one); "
        'quote it: title: "0o17"'
    ]
    problems = config.check(_link(message="N"), "w.yaml")[1]
    assert "(YAML 1.1 reads N as one)" in problems[0].message


@pytest.mark.parametrize("field", ["account", "display_name"])
@pytest.mark.parametrize("raw", ["y", "1e3", "0o17", "1_000"])
def test_the_channels_text_keys_too(field: str, raw: str) -> None:
    text = "version: 1\nchannels:\n  - account: acme\n    display_name: Acme\n".replace(
        f"{field}: {'acme' if field == 'account' else 'Acme'}", f"{field}: {raw}"
    )
    state, problems = config.check(text, "w.yaml")
    assert state is None
    assert any(f'quote it: {field}: "{raw}"' in p.message for p in problems), problems


# --- one place, two readers: PyYAML (YAML 1.1 as reconciler reads it) is within the rules ---


def _pyyaml_reads_as_other_than_text(raw: str) -> bool:
    tags = [tag for tag, regexp in RESOLVERS.get(raw[:1], ()) if regexp.match(raw)]
    return bool(tags) and tags[0] in {
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:timestamp",
    }


_scalars = st.text(alphabet="0123456789+-._:eExXoObBaAfFtTrRuUnNlLsSyY~ =", max_size=8)


@given(_scalars)
@settings(max_examples=500, deadline=None)
def test_what_pyyaml_reads_as_other_than_text_the_rules_refuse(raw: str) -> None:
    if _pyyaml_reads_as_other_than_text(raw):
        assert reads_as(raw) is not None, raw
    assert is_text(raw) == (reads_as(raw) is None), raw


def test_every_first_character_of_a_non_text_scalar_is_in_the_fast_table() -> None:
    starts = {raw[:1] for raw in NOT_TEXT} | {"", "0", "+", "-", ".", "t", "T", "f", "F"}
    assert starts <= set(NOT_TEXT_BY_FIRST)
    assert STR_TAG  # the tag the strict reader gives text
