"""The workspace JSON Schema and its two validators (``config.json_schema``)."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler import config
from reconciler.config import json_schema
from reconciler.model import ACCOUNT_PATTERN
from tests.helpers import EXAMPLE, ROOT


def test_ecma_dollar_only_matches_at_the_very_end() -> None:
    regex = json_schema._ecma_regex("^[a-z$]+$")
    assert regex.pattern == "^[a-z$]+\\Z"
    assert regex.search("ab$")
    assert not regex.search("ab\n")
    assert json_schema._ecma_regex(r"^a\$$").pattern == r"^a\$\Z"


PACKAGED_SCHEMA = ROOT / "reconciler" / "schemas" / "workspace.schema.json"


ROOT_SCHEMA = ROOT / "schemas" / "workspace.schema.json"


def test_the_schema_and_the_model_say_the_same_account_rule() -> None:
    # Two homes that can't be one: the schema is a static file editors read, the model's
    # pattern is what the sandbox and the plan use. Read as ECMA-262 ($ only at the very end),
    # the schema's pattern must be the model's exactly.
    schema_pattern = config.schema()["$defs"]["channel"]["properties"]["account"]["pattern"]
    assert json_schema._ecma_regex(schema_pattern).pattern == ACCOUNT_PATTERN


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
    python_says_valid = not any(json_schema.validator_class()(config.schema()).iter_errors(data))
    assert json_schema.known_valid(data) == python_says_valid


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
    python_says_valid = not any(json_schema.validator_class()(config.schema()).iter_errors(data))
    assert json_schema.known_valid(data) == python_says_valid


@pytest.mark.parametrize(
    ("name", "blank"),
    [("\x85", False), ("\x1c", False), ("\ufeff", True), ("\u3000", True), (" \t", True)],
)
def test_blank_means_what_it_means_in_json_schema(name: str, blank: bool) -> None:
    # ECMA-262's white space, as an editor using the schema sees it: U+0085 and U+001C are
    # not in it (Python's \s would say they are), U+FEFF is. Both validators must agree.
    data = {"version": 1, "channels": [{"account": "acme", "display_name": name}]}
    python_says_valid = not any(json_schema.validator_class()(config.schema()).iter_errors(data))
    assert python_says_valid is not blank
    assert json_schema.known_valid(data) is not blank
