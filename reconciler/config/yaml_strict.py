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
  scalar remembers whether it was plain, so a caller can tell the user to quote it (and ask
  ``plain`` whether YAML 1.2 or the one-letter YAML 1.1 booleans read it as text);
- an integer longer than ``MAX_NUMBER_CHARS`` is never made (Python can't print one of 4,300
  digits): it reads as an infinity of its sign, and messages quote what was written.

Problems are collected rather than raised, so one pass reports all of them. The nodes are
``yaml_nodes``'s; what the fast reader shares with this one is ``yaml_events``'s.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.config.positions import EditorPositions, line_col
from reconciler.config.yaml_events import (
    MAX_DEPTH,
    POSITION_IN_BYTES,
    RESOLVERS,
    STR_TAG,
    Loader,
    gc_paused,
)
from reconciler.config.yaml_nodes import (
    Mapping,
    Node,
    Scalar,
    Sequence,
    kind_of,
    node_chars,
    node_size,
    placed,
)

#: How many nodes aliases may add to a document when expanded. A real config never comes
#: close; a "billion laughs" file passes it after a few thousand events.
MAX_ALIAS_EXPANSION = 100_000
#: How many characters of text aliases may add to a document when expanded: the size of the
#: largest file read (32 MiB). Without it, one 1 MB string aliased 90,000 times (a 4 MB file,
#: well under the node bound) is 90 GB of text for every check that reads each value.
MAX_ALIAS_CHARS = 32 * 2**20

#: The longest integer made into a Python int, in characters as written; a longer one reads
#: as an infinity of its sign (see ``_resolve``). 100 digits is 10**100: no field takes it.
MAX_NUMBER_CHARS = 100

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_INT_TAG = "tag:yaml.org,2002:int"
_ALLOWED_TAGS = {STR_TAG, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
# The scalar constructors are called directly: ``construct_object`` would remember every node
# it ever built in ``constructed_objects``, a leak in a long-lived process.
_SCALAR_CONSTRUCTORS = yaml.constructor.SafeConstructor.yaml_constructors
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """A problem found while reading, at a 1-based line and column (in characters)."""

    line: int
    col: int
    code: str
    message: str


class _Abort(Exception):
    """Raised to stop reading when going on would be unsafe or meaningless."""


def _resolve(value: str, plain: bool, tag: str | None, line: int, col: int) -> Scalar:
    """The scalar node of ``value``: text when quoted or tagged ``!!str``, else what YAML 1.1
    resolves it to (a value that fails to construct, like 2024-13-45, stays text)."""
    if tag == STR_TAG or not plain:
        return Scalar(value, value, plain=False, line=line, col=col)
    resolved_tag = next(
        (tag for tag, regexp in RESOLVERS.get(value[:1], ()) if regexp.match(value)), None
    )
    if resolved_tag is None:
        return Scalar(value, value, plain=True, line=line, col=col)
    constructor = _SCALAR_CONSTRUCTORS.get(resolved_tag)
    constructed: Any = value
    if resolved_tag == _INT_TAG and len(value) > MAX_NUMBER_CHARS:
        # Never made: 0x and 5,000 digits is an int Python can't print (its 4,300-digit limit
        # on int-to-str, met by any message that shows it), and 5,000 decimal digits are one
        # it refuses to parse. No field takes such a number; it stands as an infinity, and
        # messages quote what was written (cut short).
        return Scalar(
            math.copysign(math.inf, -1.0 if value[0] == "-" else 1.0), value, True, line, col
        )
    if resolved_tag != STR_TAG and constructor is not None:
        # 2024-13-45 looks like a date but isn't one: it stays text.
        with contextlib.suppress(yaml.YAMLError, ValueError, OverflowError):
            constructed = constructor(_CONSTRUCTOR, yaml.ScalarNode(resolved_tag, value))
    return Scalar(constructed, value, plain=True, line=line, col=col)


class _Builder:
    """Builds the node tree from the event stream, collecting problems and counting what
    aliases expand to."""

    def __init__(self, positions: EditorPositions) -> None:
        self.problems: list[YamlProblem] = []
        self.anchors: dict[str, Node] = {}
        self.expansion = 0
        self.expanded_chars = 0
        self.at = positions

    def problem(self, mark: Any, code: str, message: str) -> None:
        """Record a problem at libyaml ``mark``."""
        line, col = self.at(mark)
        self.problems.append(YamlProblem(line=line, col=col, code=code, message=message))

    def check_tag(self, event: Any) -> None:
        """A problem for any tag on ``event`` but ``!!str``, ``!!map``, ``!!seq`` or ``!``."""
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
            target = None if first.anchor is None else self.anchors.get(first.anchor)
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
            return placed(target, *self.at(mark))
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


def read(text: str) -> tuple[Node | None, list[YamlProblem]]:
    """Parse one YAML document. Returns its root node (None for an empty document, or when
    a problem made the rest unreadable) and every problem found, in document order."""
    positions = EditorPositions(text)
    builder = _Builder(positions)
    with gc_paused():
        root = _read_document(text, builder, positions)
    return root, builder.problems


def _read_document(text: str, builder: _Builder, positions: EditorPositions) -> Node | None:
    """The root node of the one document in ``text`` (None when there is none, or when a
    problem made the rest unreadable); problems go to ``builder``."""
    root: Node | None = None
    try:
        events = iter(yaml.parse(text, Loader=Loader))
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
        builder.problems.append(
            YamlProblem(line=1, col=1, code="yaml-syntax", message=f"YAML error: {exc}")
        )
    except UnicodeEncodeError as exc:
        # Only a str built in Python can hold a lone surrogate; a decoded file never does.
        root = None
        line, col = line_col(text[: exc.start])
        builder.problems.append(
            YamlProblem(
                line=line,
                col=col,
                code="encoding",
                message="the text holds a lone surrogate character",
            )
        )
    return root


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    """A problem for a character YAML refuses (a control character), at its position."""
    if POSITION_IN_BYTES:
        before = text.encode("utf-8", "surrogatepass")[: exc.position].decode("utf-8", "replace")
    else:  # pragma: no cover - PyYAML without libyaml
        before = text[: exc.position]
    line, col = line_col(before)
    character = exc.character
    shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
    return YamlProblem(
        line=line,
        col=col,
        code="yaml-syntax",
        message=f"YAML syntax error: {exc.reason} (found {shown}); "
        "remove it, or write it as an escape in a double-quoted string",
    )


def _syntax_problem(text: str, exc: yaml.MarkedYAMLError, at: EditorPositions) -> YamlProblem:
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
    return YamlProblem(
        line=line, col=col, code="yaml-syntax", message=f"YAML syntax error: {message}"
    )
