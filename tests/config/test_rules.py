"""The rules a schema can't say (``config.rules``), on plain values."""

from __future__ import annotations

from reconciler.config.rules import overlong_messages, repeated_ignoring_case


def test_names_repeated_ignoring_case_are_found_with_every_index() -> None:
    assert repeated_ignoring_case([]) == {}
    assert repeated_ignoring_case(["Bio", "Ad", "bio link"]) == {}
    assert repeated_ignoring_case(["Bio", "Ad", "BIO", "ad", "bio"]) == {
        "bio": [0, 2, 4],
        "ad": [1, 3],
    }


def test_ignoring_case_is_casefold_not_lower() -> None:
    assert repeated_ignoring_case(["Straße", "STRASSE"]) == {"strasse": [0, 1]}


def test_messages_are_measured_in_utf16_code_units() -> None:
    messages = ["a" * 500, "a" * 501, "😀" * 250, "😀" * 250 + "a", "é" * 500, "hi"]
    assert overlong_messages(messages) == {1: 501, 3: 501}
    assert overlong_messages([]) == {}
