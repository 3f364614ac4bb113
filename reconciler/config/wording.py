"""The words of the config checks: how a value, a kind, a character or a field is named in a
message, so that every message of ``checks`` says them the same way. Nothing here judges;
values are cut short before they are shown (a 10 MB title, a number of 5,000 digits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.config.yaml_nodes import Mapping, Node, Scalar, Sequence, kind_of
from reconciler.model import REF_CHARACTERS, code_point

#: How many characters a message about characters names before "and N more".
NAMED_CHARACTERS = 5


def a_kind(node: Node) -> str:
    """``node``'s kind with its article: "a list", "an empty value", "null"."""
    if isinstance(node, Sequence):
        return "a list"
    if isinstance(node, Mapping):
        return "a mapping"
    if node.value is None:
        return "null" if node.raw else "an empty value"
    return f"a {kind_of(node.value)}"


#: How much of a value a message quotes: a 10 MB title is named by its start and its size.
SHOWN = 80


def shown(value: str) -> str:
    """``value`` quoted for a message, cut to ``SHOWN`` characters (saying how long it is)."""
    return cut(value, repr)


def cut(raw: str, show: Callable[[str], str] = str) -> str:
    """A value as written (unquoted, or as ``show`` shows it), cut to ``SHOWN`` characters
    (saying how long it is)."""
    if len(raw) <= SHOWN:
        return show(raw)
    return f"{show(raw[:SHOWN])}... ({len(raw):,} characters)"


def characters(found: list[tuple[int, str]], one: str, many: str) -> str:
    """``found`` characters (index, character) named for a message: "``one``, U+200B ZERO
    WIDTH SPACE (character 4)", or "3 ``many``: U+200B ... (character 4), ..."."""
    named = [f"{code_point(c)} (character {i + 1:,})" for i, c in found[:NAMED_CHARACTERS]]
    if len(found) > NAMED_CHARACTERS:
        named.append(f"and {len(found) - NAMED_CHARACTERS:,} more")
    if len(found) == 1:
        return f"{one}, {named[0]}"
    return f"{len(found):,} {many}: {', '.join(named)}"


def differing(text: str, other: str) -> str:
    """What tells two look-alike titles apart, for a message: " (U+043E CYRILLIC SMALL
    LETTER O for U+006F LATIN SMALL LETTER O)", or "" when ``text`` has no character that
    ``other`` hasn't."""
    mine = [c for c in dict.fromkeys(text) if c not in other]
    theirs = [c for c in dict.fromkeys(other) if c not in text]
    if not mine:
        return ""
    said = ", ".join(code_point(c) for c in mine[:3])
    if theirs:
        said += f" for {', '.join(code_point(c) for c in theirs[:3])}"
    return f" ({said})"


def ref_characters(node: Scalar) -> tuple[Node, str, str]:
    """The error for a ref with characters TikTok doesn't support (or none at all), naming
    them and where the first one is."""
    ref = str(node.value)
    if not ref:
        return (node, "pattern", "ref is empty: for a link without a referral tag, leave ref out")
    bad = [(i, c) for i, c in enumerate(ref) if not (c.isascii() and (c.isalnum() or c in "_-="))]
    unsupported = ", ".join(repr(c) for c in dict.fromkeys(c for _, c in bad[:20]))
    first = f" (character {bad[0][0] + 1:,})" if bad else ""
    return (
        node,
        "pattern",
        f"ref {shown(ref)} has {unsupported}{first}, which TikTok doesn't support in a ref: "
        f"only {REF_CHARACTERS}",
    )


def quote_it(field: str, node: Scalar) -> str:
    """ "; quote it: title: "yes"" for a plain scalar (just "; quote it" for a long one)."""
    if not (node.plain and node.raw):
        return ""
    if len(node.raw) <= SHOWN:
        return f'; quote it: {field}: "{node.raw}"'
    return "; quote it"


def container_name(path: list[Any]) -> str:
    """What holds the value at a jsonschema ``path``: "the top level", "channel", "link"."""
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return "the top level"
    last = names[-1]
    if isinstance(path[-1], int):
        return {"channels": "channel", "links": "link"}.get(last, last)
    return last


_WANTED = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "boolean": "true or false",
    "number": "a number",
}


def type_message(field: str, expected: str | list[str], node: Node) -> str:
    """The message for ``field`` of the wrong type (``expected``: the schema's type, or its
    list of types), with the fix when it is a likely one."""
    if isinstance(expected, list):
        wanted = " or ".join(_WANTED.get(kind, kind) for kind in expected)
        return f"{field} must be {wanted}, not {a_kind(node)}"
    wanted = _WANTED.get(expected, expected)
    message = f"{field} must be {wanted}, not {a_kind(node)}"
    if field == "ref" and isinstance(node, Scalar) and node.value is None:
        # ``ref: null`` or ``ref:`` almost always means "no tag", which is said by leaving it out.
        message += "; for a link without a referral tag, leave ref out"
        if node.plain and node.raw.isalpha():
            message += f' (or quote it, ref: "{node.raw}", if the tag is that word)'
        return message
    if expected == "string" and isinstance(node, Scalar):
        message += quote_it(field, node)
    return message
