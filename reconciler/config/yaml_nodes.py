"""The tree a positioned YAML read produces: scalars, mappings and sequences, each with the
1-based line and column (in characters) where it starts.

A collection's ``value`` is the plain Python data, so a checker can hand it to a JSON Schema
validator and still find the node of any part of it. ``size`` and ``chars`` count what the
node stands for once every alias inside it is expanded (see ``yaml_strict``'s bounds).
"""

from __future__ import annotations

import datetime
from typing import Any


class Scalar:
    """A scalar value with its position; ``plain`` is true when it was written unquoted."""

    __slots__ = ("col", "line", "plain", "raw", "value")

    def __init__(self, value: Any, raw: str, plain: bool, line: int, col: int) -> None:
        self.value = value
        self.raw = raw
        self.plain = plain
        self.line = line
        self.col = col


class Mapping:
    """A mapping: ``value`` is the plain ``dict``; ``keys`` and ``nodes`` map each key to the
    node of the key and the node of its value."""

    __slots__ = ("chars", "col", "keys", "line", "nodes", "size", "value")

    def __init__(self, line: int, col: int) -> None:
        self.value: dict[str, Any] = {}
        self.keys: dict[str, Scalar] = {}
        self.nodes: dict[str, Node] = {}
        self.line = line
        self.col = col
        self.size = 1
        self.chars = 0


class Sequence:
    """A sequence: ``value`` is the plain ``list``; ``nodes`` the node of each item."""

    __slots__ = ("chars", "col", "line", "nodes", "size", "value")

    def __init__(self, line: int, col: int) -> None:
        self.value: list[Any] = []
        self.nodes: list[Node] = []
        self.line = line
        self.col = col
        self.size = 1
        self.chars = 0


Node = Scalar | Mapping | Sequence


def node_size(node: Node) -> int:
    """How many nodes ``node`` stands for once every alias inside it is expanded."""
    return 1 if isinstance(node, Scalar) else node.size


def node_chars(node: Node) -> int:
    """How many characters of text ``node`` stands for once every alias inside it is expanded."""
    return len(node.raw) if isinstance(node, Scalar) else node.chars


def placed(node: Node, line: int, col: int) -> Node:
    """``node`` as an alias at ``line:col`` shows it: the same value, the alias's position.

    A problem with an aliased value is reported where the alias is, and each use is a node of
    its own, so two uses of one anchor are two occurrences (a title aliased twice is a
    duplicate title, not one title seen twice)."""
    if isinstance(node, Scalar):
        return Scalar(node.value, node.raw, node.plain, line, col)
    copy: Mapping | Sequence
    if isinstance(node, Mapping):
        copy = Mapping(line, col)
        copy.value, copy.keys, copy.nodes = node.value, node.keys, node.nodes
    else:
        copy = Sequence(line, col)
        copy.value, copy.nodes = node.value, node.nodes
    copy.size, copy.chars = node.size, node.chars
    return copy


def kind_of(value: object) -> str:
    """What a YAML value was read as, in the words of an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, datetime.date):  # a datetime is a date too
        return "date"
    return "string"
