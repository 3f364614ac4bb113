"""Strict YAML reading that keeps the position of every key and value.

Built on libyaml's event stream (PyYAML's C parser) rather than PyYAML's loaders, because the
loaders silently keep the last of two duplicate keys, honour ``<<`` merges, construct Python
objects for tags, and expand aliases without bound. Here:

- every mapping key and every value carries its 1-based line and column;
- a duplicate key, a ``<<`` merge key, a non-string key or any tag but ``!!str`` is a problem;
- aliases are shared references, and the size they would expand to is counted as the tree is
  built, so a "billion laughs" file stops after a bounded amount of work;
- plain scalars resolve as YAML 1.1 does (``yes`` is a boolean, ``0123`` a number), and each
  scalar remembers whether it was plain, so a caller can tell the user to quote it.

Problems are collected rather than raised, so one pass reports all of them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: How many nodes aliases may add to a document when expanded. A real config never comes
#: close; a "billion laughs" file passes it after a few thousand events.
MAX_ALIAS_EXPANSION = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_ALLOWED_TAGS = {_STR_TAG, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


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

    __slots__ = ("col", "keys", "line", "nodes", "size", "value")

    def __init__(self, line: int, col: int) -> None:
        self.value: dict[str, Any] = {}
        self.keys: dict[str, Scalar] = {}
        self.nodes: dict[str, Node] = {}
        self.line = line
        self.col = col
        self.size = 1


class Sequence:
    """A sequence: ``value`` is the plain ``list``; ``nodes`` the node of each item."""

    __slots__ = ("col", "line", "nodes", "size", "value")

    def __init__(self, line: int, col: int) -> None:
        self.value: list[Any] = []
        self.nodes: list[Node] = []
        self.line = line
        self.col = col
        self.size = 1


Node = Scalar | Mapping | Sequence


@dataclass(frozen=True, slots=True)
class YamlProblem:
    line: int
    col: int
    code: str
    message: str


class _Abort(Exception):
    """Raised to stop reading when going on would be unsafe or meaningless."""


def node_size(node: Node) -> int:
    return 1 if isinstance(node, Scalar) else node.size


def _resolve(value: str, plain: bool, tag: str | None, line: int, col: int) -> Scalar:
    if tag == _STR_TAG or not plain:
        return Scalar(value, value, plain=False, line=line, col=col)
    resolved_tag = next(
        (tag for tag, regexp in _RESOLVERS.get(value[:1], ()) if regexp.match(value)), None
    )
    if resolved_tag is None:
        return Scalar(value, value, plain=True, line=line, col=col)
    if resolved_tag == _STR_TAG:
        constructed: Any = value
    else:
        node = yaml.ScalarNode(resolved_tag, value)
        try:
            constructed = _CONSTRUCTOR.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError):
            constructed = value
    return Scalar(constructed, value, plain=True, line=line, col=col)


class _Builder:
    def __init__(self) -> None:
        self.problems: list[YamlProblem] = []
        self.anchors: dict[str, Node] = {}
        self.expansion = 0

    def problem(self, mark: Any, code: str, message: str) -> None:
        self.problems.append(YamlProblem(mark.line + 1, mark.column + 1, code, message))

    def check_tag(self, event: Any) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag not in _ALLOWED_TAGS:
            self.problem(
                event.start_mark,
                "tag",
                f"tag {tag!r} is not allowed: only plain YAML data (quote the value instead)",
            )

    def build(self, events: Iterator[Any], first: Any) -> Node:
        """Build the node that starts with event ``first``, reading the rest from ``events``."""
        mark = first.start_mark
        if isinstance(first, yaml.AliasEvent):
            target = self.anchors.get(first.anchor)
            if target is None:
                self.problem(mark, "alias", f"alias *{first.anchor} refers to no anchor")
                raise _Abort
            self.expansion += node_size(target)
            if self.expansion > MAX_ALIAS_EXPANSION:
                self.problem(
                    mark,
                    "alias-expansion",
                    "aliases expand to more than "
                    f"{MAX_ALIAS_EXPANSION:,} nodes (a 'billion laughs' file?); "
                    "write the data out instead",
                )
                raise _Abort
            return target
        self.check_tag(first)
        node: Node
        if isinstance(first, yaml.ScalarEvent):
            node = _resolve(
                first.value, first.implicit[0], first.tag, mark.line + 1, mark.column + 1
            )
        elif isinstance(first, yaml.SequenceStartEvent):
            node = Sequence(mark.line + 1, mark.column + 1)
            for event in events:
                if isinstance(event, yaml.SequenceEndEvent):
                    break
                item = self.build(events, event)
                node.nodes.append(item)
                node.value.append(item.value)
                node.size += node_size(item)
        elif isinstance(first, yaml.MappingStartEvent):
            node = self.build_mapping(events, Mapping(mark.line + 1, mark.column + 1))
        else:  # pragma: no cover - the parser never yields anything else here
            raise _Abort
        if first.anchor is not None:
            self.anchors[first.anchor] = node
        return node

    def build_mapping(self, events: Iterator[Any], node: Mapping) -> Mapping:
        for event in events:
            if isinstance(event, yaml.MappingEndEvent):
                return node
            key_node = self.build(events, event)
            value_node = self.build(events, next(events))
            if not isinstance(key_node, Scalar):
                self.problem(event.start_mark, "key-type", "a key must be a plain string")
                continue
            if key_node.raw == "<<" and key_node.plain:
                self.problem(
                    event.start_mark,
                    "merge-key",
                    "merge keys (<<) are not supported: write the keys out",
                )
                continue
            if not isinstance(key_node.value, str):
                self.problem(
                    event.start_mark,
                    "key-type",
                    f"key {key_node.raw!r} is read as a {_kind(key_node.value)}: quote it",
                )
                continue
            key = key_node.value
            first = node.keys.get(key)
            if first is not None:
                self.problem(
                    event.start_mark,
                    "duplicate-key",
                    f"duplicate key {key!r} (first at line {first.line}, column {first.col})",
                )
                continue
            node.keys[key] = key_node
            node.nodes[key] = value_node
            node.value[key] = value_node.value
            node.size += node_size(value_node)
        return node  # pragma: no cover - the parser always closes a mapping


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def read(text: str) -> tuple[Node | None, list[YamlProblem]]:
    """Parse one YAML document. Returns its root node (None for an empty document, or when
    a problem made the rest unreadable) and every problem found, in document order."""
    builder = _Builder()
    root: Node | None = None
    # Millions of small objects and no cycles: the collector would only slow us down.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        events = iter(yaml.parse(text, Loader=_Loader))
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    builder.problem(
                        event.start_mark,
                        "multiple-documents",
                        "the file holds more than one YAML document; keep one",
                    )
                    break
            elif isinstance(event, yaml.StreamStartEvent | yaml.DocumentEndEvent):
                continue
            elif isinstance(event, yaml.StreamEndEvent):
                break
            else:
                root = builder.build(events, event)
    except _Abort:
        root = None
    except yaml.MarkedYAMLError as exc:
        root = None
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        builder.problems.append(
            YamlProblem(
                (mark.line + 1) if mark else 1,
                (mark.column + 1) if mark else 1,
                "yaml-syntax",
                f"YAML syntax error: {message}",
            )
        )
    except yaml.YAMLError as exc:
        root = None
        builder.problems.append(YamlProblem(1, 1, "yaml-syntax", f"YAML error: {exc}"))
    finally:
        if gc_was_enabled:
            gc.enable()
    return root, builder.problems
