"""Strict YAML reading that keeps the position of every key and value.

Built on libyaml's event stream (PyYAML's C parser) rather than PyYAML's loaders, because the
loaders silently keep the last of two duplicate keys, honour ``<<`` merges, construct Python
objects for tags, and expand aliases without bound. Here:

- every mapping key and every value carries its 1-based line and column, in characters, as an
  editor shows them (libyaml also breaks lines at U+0085, U+2028 and U+2029; editors don't);
- a duplicate key, a ``<<`` merge key, a non-string key or any tag but ``!!str`` is a problem;
- aliases share the value of their anchor (a node at the alias's own position stands for it),
  and the size they would expand to, in nodes and in characters of text, is counted as the tree
  is built, so a "billion laughs" file (or one long string aliased a million times) stops after
  a bounded amount of work;
- nesting is bounded too, so a file of ten thousand ``[`` can't exhaust the Python stack;
- plain scalars resolve as YAML 1.1 does (``yes`` is a boolean, ``0123`` a number), and each
  scalar remembers whether it was plain, so a caller can tell the user to quote it.

Problems are collected rather than raised, so one pass reports all of them.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader

    #: libyaml reads UTF-8 bytes, so the ``position`` of its ``ReaderError`` is a byte offset.
    _POSITION_IN_BYTES = True
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

    _POSITION_IN_BYTES = False

#: How many nodes aliases may add to a document when expanded. A real config never comes
#: close; a "billion laughs" file passes it after a few thousand events.
MAX_ALIAS_EXPANSION = 100_000
#: How many characters of text aliases may add to a document when expanded: the size of the
#: largest file read (32 MiB). Without it, one 1 MB string aliased 90,000 times (a 4 MB file,
#: well under the node bound) is 90 GB of text for every check that reads each value.
MAX_ALIAS_CHARS = 32 * 2**20
#: How deeply collections may nest. A config needs five levels (top, channels, channel, links,
#: link); the bound keeps the recursive builder far from Python's recursion limit.
MAX_DEPTH = 64

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_STR_TAG = "tag:yaml.org,2002:str"
_ALLOWED_TAGS = {_STR_TAG, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
# The scalar constructors are called directly: ``construct_object`` would remember every node
# it ever built in ``constructed_objects``, a leak in a long-lived process.
_SCALAR_CONSTRUCTORS = yaml.constructor.SafeConstructor.yaml_constructors
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


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """A problem found while reading, at a 1-based line and column (in characters)."""

    line: int
    col: int
    code: str
    message: str


class _Abort(Exception):
    """Raised to stop reading when going on would be unsafe or meaningless."""


def node_size(node: Node) -> int:
    """How many nodes ``node`` stands for once every alias inside it is expanded."""
    return 1 if isinstance(node, Scalar) else node.size


def node_chars(node: Node) -> int:
    """How many characters of text ``node`` stands for once every alias inside it is expanded."""
    return len(node.raw) if isinstance(node, Scalar) else node.chars


def _placed(node: Node, line: int, col: int) -> Node:
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


def _resolve(value: str, plain: bool, tag: str | None, line: int, col: int) -> Scalar:
    if tag == _STR_TAG or not plain:
        return Scalar(value, value, plain=False, line=line, col=col)
    resolved_tag = next(
        (tag for tag, regexp in _RESOLVERS.get(value[:1], ()) if regexp.match(value)), None
    )
    if resolved_tag is None:
        return Scalar(value, value, plain=True, line=line, col=col)
    constructor = _SCALAR_CONSTRUCTORS.get(resolved_tag)
    constructed: Any = value
    if resolved_tag != _STR_TAG and constructor is not None:
        # 2024-13-45 looks like a date but isn't one: it stays text.
        with contextlib.suppress(yaml.YAMLError, ValueError, OverflowError):
            constructed = constructor(_CONSTRUCTOR, yaml.ScalarNode(resolved_tag, value))
    return Scalar(constructed, value, plain=True, line=line, col=col)


class _Positions:
    """Turns a libyaml mark into the 1-based line and column an editor shows.

    libyaml counts columns in characters, but it also starts a new line at U+0085, U+2028 and
    U+2029, which editors don't. When the text holds one of those, the position is worked out
    again from the mark's character index.
    """

    def __init__(self, text: str) -> None:
        self.line_starts: list[int] | None = None
        if any(char in text for char in _YAML_ONLY_BREAKS):
            self.line_starts = [0] + [m.end() for m in _EDITOR_BREAK.finditer(text)]

    def __call__(self, mark: Any) -> tuple[int, int]:
        if self.line_starts is None:
            return mark.line + 1, mark.column + 1
        line = bisect.bisect_right(self.line_starts, mark.index) - 1
        return line + 1, mark.index - self.line_starts[line] + 1


_YAML_ONLY_BREAKS = "\x85\u2028\u2029"
_EDITOR_BREAK = re.compile(r"\r\n|\r|\n")


class _Builder:
    def __init__(self, positions: _Positions) -> None:
        self.problems: list[YamlProblem] = []
        self.anchors: dict[str, Node] = {}
        self.expansion = 0
        self.expanded_chars = 0
        self.at = positions

    def problem(self, mark: Any, code: str, message: str) -> None:
        self.problems.append(YamlProblem(*self.at(mark), code, message))

    def check_tag(self, event: Any) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag not in _ALLOWED_TAGS:
            # Show the tag the way it is usually written: !!python/... rather than tag:yaml.org...
            shown = (
                "!!" + tag.removeprefix(_YAML_TAG_PREFIX)
                if tag.startswith(_YAML_TAG_PREFIX)
                else tag
            )
            self.problem(
                event.start_mark,
                "tag",
                f"tag {shown!r} is not allowed: only plain YAML data (quote the value instead)",
            )

    def build(self, events: Iterator[Any], first: Any, depth: int = 1) -> Node:
        """Build the node that starts with event ``first``, reading the rest from ``events``.

        ``depth`` is how many collections hold this node, plus one.
        """
        mark = first.start_mark
        if isinstance(first, yaml.AliasEvent):
            target = self.anchors.get(first.anchor)
            if target is None:
                self.problem(mark, "alias", f"alias *{first.anchor} refers to no anchor")
                raise _Abort
            self.expansion += node_size(target)
            self.expanded_chars += node_chars(target)
            if self.expansion > MAX_ALIAS_EXPANSION:
                self.problem(
                    mark,
                    "alias-expansion",
                    "aliases expand to more than "
                    f"{MAX_ALIAS_EXPANSION:,} nodes (a 'billion laughs' file?); "
                    "write the data out instead",
                )
                raise _Abort
            if self.expanded_chars > MAX_ALIAS_CHARS:
                self.problem(
                    mark,
                    "alias-expansion",
                    f"aliases expand to more than {MAX_ALIAS_CHARS:,} characters of text "
                    "(one long value aliased again and again?); write the data out instead",
                )
                raise _Abort
            return _placed(target, *self.at(mark))
        self.check_tag(first)
        if depth > MAX_DEPTH and isinstance(
            first, yaml.SequenceStartEvent | yaml.MappingStartEvent
        ):
            self.problem(
                mark, "nesting", f"lists and mappings nest more than {MAX_DEPTH} levels deep"
            )
            raise _Abort
        node: Node
        line, col = self.at(mark)
        if isinstance(first, yaml.ScalarEvent):
            node = _resolve(first.value, first.implicit[0], first.tag, line, col)
        elif isinstance(first, yaml.SequenceStartEvent):
            node = Sequence(line, col)
            for event in events:
                if isinstance(event, yaml.SequenceEndEvent):
                    break
                item = self.build(events, event, depth + 1)
                node.nodes.append(item)
                node.value.append(item.value)
                node.size += node_size(item)
                node.chars += node_chars(item)
        elif isinstance(first, yaml.MappingStartEvent):
            node = self.build_mapping(events, Mapping(line, col), depth)
        else:  # pragma: no cover - the parser never yields anything else here
            raise _Abort
        if first.anchor is not None:
            self.anchors[first.anchor] = node
        return node

    def build_mapping(self, events: Iterator[Any], node: Mapping, depth: int) -> Mapping:
        """Fill ``node`` with the keys and values up to the end of the mapping."""
        for event in events:
            if isinstance(event, yaml.MappingEndEvent):
                return node
            key_node = self.build(events, event, depth + 1)
            value_node = self.build(events, next(events), depth + 1)
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
                    f"key {key_node.raw!r} is read as a {kind_of(key_node.value)}: quote it",
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
            node.chars += len(key_node.raw) + node_chars(value_node)
        return node  # pragma: no cover - the parser always closes a mapping


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


def read(text: str) -> tuple[Node | None, list[YamlProblem]]:
    """Parse one YAML document. Returns its root node (None for an empty document, or when
    a problem made the rest unreadable) and every problem found, in document order."""
    positions = _Positions(text)
    builder = _Builder(positions)
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
        builder.problems.append(_syntax_problem(text, exc, positions))
    except yaml.reader.ReaderError as exc:
        root = None
        builder.problems.append(_reader_problem(text, exc))
    except yaml.YAMLError as exc:  # pragma: no cover - every libyaml error is one of the above
        root = None
        builder.problems.append(YamlProblem(1, 1, "yaml-syntax", f"YAML error: {exc}"))
    except UnicodeEncodeError as exc:
        # Only a str built in Python can hold a lone surrogate; a decoded file never does.
        root = None
        line, col = line_col(text[: exc.start])
        builder.problems.append(
            YamlProblem(line, col, "encoding", "the text holds a lone surrogate character")
        )
    finally:
        if gc_was_enabled:
            gc.enable()
    return root, builder.problems


def line_col(before: str) -> tuple[int, int]:
    """The 1-based line and column just after the text ``before``, as an editor counts them:
    in characters, with lines broken at CR LF, CR or LF."""
    starts = [m.end() for m in _EDITOR_BREAK.finditer(before)]
    line_start = starts[-1] if starts else 0
    return len(starts) + 1, len(before) - line_start + 1


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    """A problem for a character YAML refuses (a control character), at its position."""
    if _POSITION_IN_BYTES:
        before = text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "replace")
    else:  # pragma: no cover - PyYAML without libyaml
        before = text[: exc.position]
    line, col = line_col(before)
    character = exc.character
    shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
    return YamlProblem(
        line,
        col,
        "yaml-syntax",
        f"YAML syntax error: {exc.reason} (found {shown}); "
        "remove it, or write it as an escape in a double-quoted string",
    )


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError, at: _Positions) -> YamlProblem:
    """A problem at the place libyaml gave up, naming where the enclosing construct began."""
    mark = exc.problem_mark or exc.context_mark
    line, col = at(mark) if mark is not None else (1, 1)
    context = exc.context or ""
    if context and exc.context_mark is not None:
        start_line, start_col = at(exc.context_mark)
        if start_line != line:
            context += f" (started at line {start_line}, column {start_col})"
    message = ": ".join(p for p in (context, exc.problem) if p)
    tab = mark is not None and text[mark.index : mark.index + 1] == "\t"
    if tab and "tab" not in message:
        # libyaml often says only "found character that cannot start any token".
        message += " (a tab: YAML indents with spaces only)"
    return YamlProblem(line, col, "yaml-syntax", f"YAML syntax error: {message}")
