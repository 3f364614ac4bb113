"""Words that follow a number: the one home of the plural rule every message uses."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the noun that fits it: ``plural(1, "link")`` is ``"1 link"``,
    ``plural(3, "link")`` ``"3 links"``; ``many`` spells an irregular plural
    (``plural(2, "link gets", "links get")``)."""
    return f"{count} {noun(count, one, many)}"


def noun(count: int, one: str, many: str | None = None) -> str:
    """The noun alone, singular for exactly one and plural otherwise (``many`` or ``one + "s"``)."""
    return one if count == 1 else many if many is not None else one + "s"
