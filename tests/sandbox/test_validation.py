"""Request bodies as the sandbox judges them: jsonschema-rs's quick yes (``_known_valid``) is
taken only where it is the Python validator's, which decides everything else and words each
error. Property-based, over text built to sit on the patterns' edges (blanks of every kind, a
line break before ``$``, control and format characters, lengths around the limits)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler.errors import ApiProblem
from reconciler.sandbox import validation

BODIES = ("LinkCreate", "LinkPatch", "ChannelPatch")

#: Characters where regular expression flavours disagree on what a blank is, or where a line
#: ends, and some that are plainly text.
EDGES = " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200b\u2028\u3000\ufeffaZ9_=-.é🐶"

_text = (
    st.text(alphabet=EDGES, max_size=6)
    | st.text(max_size=4)
    | st.sampled_from(["", " ", "ok", "ref_1", "a=b", "a\n", "x" * 100, "x" * 101, "y" * 500])
    | st.sampled_from(["y" * 501, "z" * 2083, "z" * 2084, "🐶" * 250, "🐶" * 251])
)
_value = _text | st.none() | st.integers(-1, 3) | st.booleans() | st.lists(_text, max_size=1)
_body = st.dictionaries(
    st.sampled_from(["title", "ref", "message", "display_name", "extra", "", "título"]),
    _value,
    max_size=4,
)
#: Bodies shaped as the schemas want them, each field's text on the edges.
_shaped = st.fixed_dictionaries(
    {"title": _text, "message": _text}, optional={"ref": _text | st.none()}
) | st.fixed_dictionaries({"display_name": _text})


def _python_says_valid(name: str, data: Any) -> bool:
    return not any(validation._validator(name).iter_errors(data))


@given(st.sampled_from(BODIES), _shaped | _body | _value)
@example("LinkCreate", {"title": "\x1c", "message": "m"})  # jsonschema-rs: not blank
@example("LinkCreate", {"title": "\x85", "message": "m"})
@example("LinkCreate", {"title": "T", "ref": "a\n", "message": "m"})  # Python's $: valid
@settings(max_examples=2000, deadline=None)
def test_the_quick_yes_is_the_python_validators(name: str, data: Any) -> None:
    if validation._known_valid(name, data):
        assert _python_says_valid(name, data)
    # Over printable text, where the quick check answers at all, the two agree both ways.
    printable = isinstance(data, dict) and all(
        key.isprintable() and validation._printable_or_null(value) for key, value in data.items()
    )
    if printable:
        assert validation._known_valid(name, data) == _python_says_valid(name, data)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"title": "Bio", "ref": "bio_1", "message": "Hi 🐶"}, True),
        ({"title": "Bio", "ref": None, "message": "Hi"}, True),
        ({"title": " ", "message": "Hi"}, False),  # blank
        ({"title": "Bio", "ref": "a b", "message": "Hi"}, False),  # not TikTok's characters
        ({"title": "Bio", "message": "Hi", "extra": 1}, False),
        ({"title": "Bio"}, False),
    ],
)
def test_a_link_create_body_is_judged_as_before(body: dict[str, Any], valid: bool) -> None:
    assert validation._known_valid("LinkCreate", body) == valid
    if valid:
        assert validation.validate_body("LinkCreate", body) is None
    else:
        with pytest.raises(ApiProblem) as caught:
            validation.validate_body("LinkCreate", body)
        assert caught.value.status == 422 and caught.value.errors
