"""The fast path: the desired state of a plain, valid config, straight from libyaml's events.

Most config files are plain, valid YAML, and for those nothing but the data is needed:
positions only matter when something is wrong. ``read_plain`` builds the data with no node
objects at all, and *declines* (returns ``None``) the moment the text holds anything the
strict reader (``yaml_strict``) would have to judge: a tag, an anchor or alias, a duplicate
or merge key, a plain scalar YAML 1.1 or YAML 1.2 would read as anything but text
(``plain``), ``true``/``false``, or a plain decimal number, more than one document, a syntax
error. ``fast_desired`` then asks the schema (jsonschema-rs) and the rules of ``rules`` whether
the data is valid with nothing to warn about (no ref too long, no character that shows
nothing, no titles that look alike), and declines otherwise.

So the fast path can only accept; it never reports: the caller reads a declined text again
with positions (``checks``), which words every problem. What it buys: a valid 100,000-link
file is checked in about a third of the time of the positioned read (docs/benchmarks.md).
Differential tests (tests/config/test_fast.py) hold the two paths to the same desired state
and the same verdict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from reconciler.config.desired import desired_channel, desired_links
from reconciler.config.json_schema import known_valid
from reconciler.config.plain import NOT_TEXT_BY_FIRST
from reconciler.config.rules import (
    all_composed,
    look_alike_titles,
    overlong_messages,
    overlong_refs,
    renamed_conflicts,
    repeated_ignoring_case,
)
from reconciler.config.yaml_events import MAX_DEPTH, STR_TAG, Loader, gc_paused
from reconciler.model import (
    DesiredLink,
    DesiredState,
    control_characters,
    invisible,
    may_be_flagged,
    shared_refs,
)

#: The only plain scalars, besides text, that the fast path accepts; anything else YAML 1.1
#: or 1.2 would resolve to a non-string (yes, y, 0x1, 1e3, 1_000, .nan, ~, dates...) goes the
#: slow way.
_CANONICAL = re.compile(r"true|false|0|[1-9][0-9]{0,17}|(?:0|[1-9][0-9]{0,17})\.[0-9]{1,17}")

#: Words every config repeats (its keys) that neither YAML 1.1 nor 1.2 reads as other than
#: text: taken as text without asking ``plain`` (the differential test covers them too).
_TEXT_WORDS = frozenset(
    {
        *("version", "channels", "account", "display_name", "protect", "remove"),
        *("max_change_pct", "prune", "links", "title", "ref", "message", "renamed_from"),
    }
)

_SCALAR = yaml.ScalarEvent
_MAP_START = yaml.MappingStartEvent
_MAP_END = yaml.MappingEndEvent
_SEQ_START = yaml.SequenceStartEvent
_SEQ_END = yaml.SequenceEndEvent
_SKIP = (yaml.StreamStartEvent, yaml.DocumentEndEvent, yaml.StreamEndEvent)


def fast_desired(text: str) -> DesiredState | None:
    """The desired state of a plain, valid config with nothing to warn about, read without
    positions; None whenever the full check must run (it alone words problems)."""
    data = read_plain(text)
    if type(data) is not dict or type(data.get("version")) is not int:
        return None  # version 1.0 passes the schema but is refused by the full check
    if not known_valid(data):
        return None
    if repeated_ignoring_case([channel["account"] for channel in data["channels"]]):
        return None
    # One search of the text instead of a look at every link: most files rename nothing.
    renames = "renamed_from" in text
    channels = []
    for channel in data["channels"]:
        links = desired_links(channel)
        titles = [link.title for link in links]
        messages = [link.message for link in links]
        refs = [link.ref for link in links]
        if (
            repeated_ignoring_case(titles)
            or shared_refs(refs)  # a warning: the full check words it
            or overlong_messages(messages)
            or overlong_refs(refs)
            or _flagged([channel.get("display_name", ""), *titles], messages)
            or look_alike_titles(titles)  # a warning
            or (renames and _renames_decline(links))
        ):
            return None
        channels.append(desired_channel(channel, links))
    return DesiredState(channels=tuple(channels))


def _renames_decline(links: tuple[DesiredLink, ...]) -> bool:
    """Whether the ``renamed_from`` titles of a channel's links hold anything the full check
    reports: a conflict (``renamed_conflicts``), a character that shows nothing, a control
    character."""
    renamed = [link.renamed_from for link in links]
    olds = [old for titles in renamed for old in titles]
    return (
        bool(renamed_conflicts([link.title for link in links], renamed))
        or _flagged(olds)
    )


def _flagged(names: Sequence[str], messages: Sequence[str] = ()) -> bool:
    """Whether any of ``names`` (titles, a display name) or ``messages`` is not composed
    (``all_composed``: a warning), holds a character
    that shows nothing (``invisible``: a warning) or a control character
    (``control_characters``: an error). One search over all of them (``may_be_flagged``),
    and a look for the controls only a message may hold in the names; the precise checks
    only when one finds a candidate."""
    joined = "".join(names)
    if not all_composed((*names, *messages)):
        return True  # text not in Unicode's composed form: a warning
    if not may_be_flagged(joined + "".join(messages)) and not any(
        c in joined for c in "\t\n\r\x85"
    ):
        return False
    return (
        any(invisible(text) for text in (*names, *messages))
        or bool(control_characters(joined))
        or any(control_characters(text, message=True) for text in messages)
    )


class _Decline(Exception):
    """The text needs the positioned reader."""


def _resolve(value: str, not_text: re.Pattern[str]) -> Any:
    """A plain scalar that may be other than text: its value, or ``_Decline`` for anything
    but text and the canonical booleans and decimals."""
    if not not_text.fullmatch(value):
        return value
    if not _CANONICAL.fullmatch(value):
        raise _Decline
    if value == "true":
        return True
    if value == "false":
        return False
    return float(value) if "." in value else int(value)


def read_plain(text: str) -> Any | None:
    """The data of a one-document YAML text, or None when the positioned reader must judge it
    (see the module docstring). Never raises for any text."""
    with gc_paused():
        try:
            return _read(text)
        except (_Decline, yaml.YAMLError, ValueError, RecursionError):
            return None


def _read(text: str) -> Any | None:
    """``read_plain`` without the guards: raises ``_Decline`` or a YAML error."""
    loader = Loader(text)
    try:
        return _build(loader.get_event)
    finally:
        loader.dispose()


def _build(get_event: Any) -> Any | None:
    """The data of the events ``get_event`` returns; None for no document."""
    # This loop runs once per event, 800,000 times for 100,000 links: the open collection,
    # whether it is a list and a mapping's pending key are locals, not looked up in the stack.
    stack: list[tuple[Any, bool, Any]] = []  # the enclosing collections, as (c, is_list, key)
    current: Any = None  # the open collection (None at the top level)
    is_list = False
    key: Any = None  # the open mapping's key awaiting its value
    root: Any = None
    documents = 0
    have_root = False
    not_text_for = NOT_TEXT_BY_FIRST.get
    # The parser's own get_event, not yaml.parse's generator: a call less per event.
    while (event := get_event()) is not None:
        kind = type(event)
        if kind is _SCALAR:
            if event.anchor is not None:
                raise _Decline
            value = event.value
            tag = event.tag
            if tag is not None:
                if tag != STR_TAG:  # even "! true", which PyYAML reads as a boolean
                    raise _Decline
            elif event.implicit[0] and value not in _TEXT_WORDS:  # plain, not quoted
                not_text = not_text_for(value[:1])
                if not_text is not None:
                    value = _resolve(value, not_text)
            if is_list:
                current.append(value)
            elif current is None:
                root, have_root = value, True
            elif key is None:  # this scalar is a key
                if type(value) is not str or value == "<<" or value in current:
                    raise _Decline
                key = value
            else:
                current[key] = value
                key = None
            continue
        if kind is _MAP_START or kind is _SEQ_START:
            if event.anchor is not None or (event.tag is not None and event.tag != "!"):
                raise _Decline
            if len(stack) >= MAX_DEPTH:
                raise _Decline
            value = {} if kind is _MAP_START else []
            if is_list:
                current.append(value)
            elif current is not None:
                if key is None:  # a collection as a key
                    raise _Decline
                current[key] = value
            stack.append((current, is_list, None if is_list else key))
            current, is_list, key = value, kind is _SEQ_START, None
        elif kind is _MAP_END or kind is _SEQ_END:
            value = current
            current, is_list, key = stack.pop()
            key = None
            if current is None:
                root, have_root = value, True
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Decline
        elif kind in _SKIP:
            continue
        else:  # an alias
            raise _Decline
    if not have_root or stack:
        return None
    return root
