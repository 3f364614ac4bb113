"""``plan.drift``: what moved since a saved plan was made, one line per field, in words."""

from __future__ import annotations

from typing import Any

from reconciler.plan.drift import describe_drift

BIO = {"title": "Bio", "ref": None, "message": "m", "url": "https://tiktok.me/acme?message=m"}


def state(links: dict[str, dict[str, Any]], **channel: Any) -> dict[str, Any]:
    """A declared state of one channel ``acme`` with ``links`` (by id)."""
    fields = {"id": "1", "account": "acme", "display_name": "A", "status": "connected"}
    return {"acme": {**fields, **channel, "links": links}}


def test_each_link_added_to_or_removed_from_an_empty_channel_is_named() -> None:
    assert describe_drift(state({}), state({"7": BIO})) == ["acme: link 'Bio' (id 7) was added"]
    assert describe_drift(state({"7": BIO}), state({})) == ["acme: link 'Bio' (id 7) was removed"]


def test_a_new_message_is_one_line_without_the_url_that_follows_it() -> None:
    edited = dict(BIO, message="n", url="https://tiktok.me/acme?message=n")
    assert describe_drift(state({"7": BIO}), state({"7": edited})) == [
        "acme: link 'Bio' (id 7) message changed: 'm' -> 'n'"
    ]


def test_channel_fields_and_a_channel_that_went_away() -> None:
    renamed = state({}, display_name="B", status="disconnected")
    assert describe_drift(state({}), renamed) == [
        "acme: display_name changed: 'A' -> 'B'",
        "acme: status changed: 'connected' -> 'disconnected'",
    ]
    assert describe_drift(state({}), {"acme": None}) == ["acme: the channel was removed"]
    assert describe_drift({"acme": None}, state({})) == ["acme: the channel was connected"]


def test_identical_states_that_hash_differently_still_say_something() -> None:
    assert describe_drift(state({}), state({})) == [
        "the recorded state does not match the workspace"
    ]


def test_a_version_is_said_only_when_nothing_else_of_its_resource_moved() -> None:
    v1 = dict(BIO, version=1)
    edited = dict(v1, message="n", url="https://tiktok.me/acme?message=n", version=2)
    assert describe_drift(state({"7": v1}), state({"7": edited})) == [
        "acme: link 'Bio' (id 7) message changed: 'm' -> 'n'"
    ]
    touched = dict(v1, version=2)  # written with the same values: only the version moved
    assert describe_drift(state({"7": v1}), state({"7": touched})) == [
        "acme: link 'Bio' (id 7) version changed: 1 -> 2"
    ]
    renamed = state({"7": v1}, display_name="B", version=2)
    assert describe_drift(state({"7": v1}, version=1), renamed) == [
        "acme: display_name changed: 'A' -> 'B'"
    ]
