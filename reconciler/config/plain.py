"""What a plain (unquoted) scalar is read as, by YAML 1.1 and by YAML 1.2: the rules of both
readers, in one place.

A config is read by more than reconciler: editors, GitHub's preview, other tools, some with
YAML 1.1 (PyYAML, Ruby, most older tools), some with YAML 1.2's core schema (yaml-language-
server, Go's and Rust's readers). A plain scalar that either of them reads as a boolean, null
or a number is not text, whatever reconciler's own reader (PyYAML: YAML 1.1) makes of it: where
text is expected it is an error, and the fix is to quote it. So ``title: y`` (a YAML 1.1
boolean that PyYAML leaves as text), ``title: 1e3`` and ``title: 0o17`` (YAML 1.2 numbers) are
refused like ``title: yes``.

The rules are the specifications' own regular expressions: YAML 1.1's type repository
(yaml.org/type: bool, null, int, float, timestamp) and YAML 1.2.2's core schema (section
10.3.2). ``reads_as`` is what the full check words; ``NOT_TEXT_BY_FIRST`` is what the fast path
asks (the same patterns, by first character; tests/config/test_plain.py holds them together).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["NOT_TEXT_BY_FIRST", "YAML_1_1", "YAML_1_2", "Reading", "is_text", "reads_as"]


class Reading(NamedTuple):
    """What a reader makes of a plain scalar that is not text: ``kind`` in the words of a
    message ("boolean", "null", "number", "date"), and the ``reader`` ("YAML 1.1")."""

    kind: str
    reader: str


#: YAML 1.1's implicit types (yaml.org/type/*.html), as (kind, pattern). PyYAML leaves out
#: the one-letter booleans y, Y, n and N; the specification, and other YAML 1.1 readers, don't.
#: The float is PyYAML's reading of the specification's (which also matches "." and "1.2.3").
YAML_1_1: tuple[tuple[str, str], ...] = (
    (
        "boolean",
        r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
    ),
    ("null", r"~|null|Null|NULL|"),
    (
        "number",
        r"[-+]?0b[0-1_]+"
        r"|[-+]?0[0-7_]+"
        r"|[-+]?(?:0|[1-9][0-9_]*)"
        r"|[-+]?0x[0-9a-fA-F_]+"
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
    ),
    (
        "number",
        r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?"
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
        r"|[-+]?\.(?:inf|Inf|INF)"
        r"|\.(?:nan|NaN|NAN)",
    ),
    (
        "date",
        r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
    ),
)

#: YAML 1.2's core schema (YAML 1.2.2, 10.3.2), as (kind, pattern).
YAML_1_2: tuple[tuple[str, str], ...] = (
    ("boolean", r"true|True|TRUE|false|False|FALSE"),
    ("null", r"~|null|Null|NULL|"),
    ("number", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"),
    (
        "number",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)"
        r"|\.(?:nan|NaN|NAN)",
    ),
)

_READERS = (("YAML 1.1", YAML_1_1), ("YAML 1.2", YAML_1_2))
_COMPILED = tuple(
    (reader, kind, re.compile(pattern)) for reader, rules in _READERS for kind, pattern in rules
)


def reads_as(raw: str) -> Reading | None:
    """What the first of YAML 1.1 and YAML 1.2 that doesn't read plain scalar ``raw`` as text
    reads it as; None when both read it as text."""
    for reader, kind, pattern in _COMPILED:
        if pattern.fullmatch(raw):
            return Reading(kind, reader)
    return None


#: Every character a plain scalar that isn't text (in either reader) can start with, mapped
#: to one pattern of all the rules: the fast path's question, asked only of scalars that start
#: with one of these (a title like "June Giveaway" is never matched against anything).
NOT_TEXT_BY_FIRST: dict[str, re.Pattern[str]] = {}


def _by_first() -> None:
    union = re.compile("|".join(f"(?:{p.pattern})" for _, _, p in _COMPILED))
    for first in ["", *"0123456789+-.~yYnNtTfFoO"]:  # "": an empty scalar is null
        NOT_TEXT_BY_FIRST[first] = union


_by_first()


def is_text(raw: str) -> bool:
    """Whether both readers read plain scalar ``raw`` as text (the fast path's form of
    ``reads_as(raw) is None``: no pattern is tried for most text)."""
    pattern = NOT_TEXT_BY_FIRST.get(raw[:1])
    return pattern is None or pattern.fullmatch(raw) is None
