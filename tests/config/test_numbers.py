"""Numbers of any size, in every field, are refused with a normal positioned message, never
an internal error (Python refuses to print an int of over 4,300 digits)."""

from __future__ import annotations

import pytest

from reconciler import config

HUGE = {
    "decimal": "9" * 5000,
    "negative": "-" + "9" * 5000,
    "hex": "0x" + "f" * 5000,
    "octal": "0" + "7" * 5000,
    "binary": "0b" + "1" * 15000,
    "sexagesimal": "1" + ":59" * 2000,
    "float": "9" * 5000 + ".5",
    "exponent": "1e" + "9" * 5000,
}

BASE = {
    "version": "1",
    "account": "acme",
    "display_name": "Acme",
    "max_change_pct": "30",
    "protect": "true",
    "title": "Bio",
    "ref": "bio",
    "message": "Hi",
}


def _config(field: str, value: str) -> str:
    v = BASE | {field: value}
    if field == "channels":
        return f"version: 1\nchannels: {value}\n"
    if field == "channel":
        return f"version: 1\nchannels:\n  - {value}\n"
    channel = "version: 1\nchannels:\n  - account: acme\n    display_name: A\n    links:"
    if field == "links":
        return f"{channel} {value}\n"
    if field == "link":
        return f"{channel}\n      - {value}\n"
    return (
        f"version: {v['version']}\nchannels:\n  - account: {v['account']}\n"
        f"    display_name: {v['display_name']}\n    max_change_pct: {v['max_change_pct']}\n"
        f"    protect: {v['protect']}\n    links:\n      - title: {v['title']}\n"
        f"        ref: {v['ref']}\n        message: {v['message']}\n"
    )


FIELDS = [*BASE, "channels", "channel", "links", "link"]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("kind", sorted(HUGE))
def test_a_huge_number_anywhere_is_a_positioned_error(field: str, kind: str) -> None:
    text = _config(field, HUGE[kind])
    state, problems = config.check(text, "w.yaml")
    assert state is None, field
    errors = [p for p in problems if p.severity == "error"]
    assert errors
    for problem in errors:
        assert problem.line is not None and problem.col is not None
        shown = str(problem)
        assert len(shown) < 400, shown  # a bounded prefix of the number, never all of it
    assert config.check_full(text, "w.yaml") == (state, problems)


def test_the_number_is_shown_cut_with_its_size() -> None:
    _, problems = config.check(_config("max_change_pct", HUGE["hex"]), "w.yaml")
    assert [str(p) for p in problems] == [
        "w.yaml:5:21: max_change_pct must be between 0 and 100, not 0x"
        + "f" * 78
        + "... (5,002 characters)"
    ]
    _, problems = config.check(_config("version", HUGE["decimal"]), "w.yaml")
    assert str(problems[0]).startswith("w.yaml:1:10: unsupported version 999")
    assert str(problems[0]).endswith("... (5,000 characters): this reconciler reads 'version: 1'")
    _, problems = config.check(_config("title", HUGE["hex"]), "w.yaml")
    assert str(problems[0]) == "w.yaml:8:16: title must be a string, not a number; quote it"
