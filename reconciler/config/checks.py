"""The checks of a config read with positions: what the schema says, worded for a person
(``schema_words``), and the rules a schema can't say (uniqueness ignoring case, UTF-16 length,
strict booleans, text that is text in YAML 1.1 and 1.2, a ref's length percent-encoded,
characters that show nothing, titles that look alike, ``renamed_from`` titles another link
has or claims).

``tree_problems(path, root)`` returns every problem of a YAML tree at the position of the
node it is about. Only the full check runs this; a plain, valid file never gets here. The
rules a schema can't say are ``rules``'s (the fast path calls them too); this module words them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from reconciler.config.json_schema import known_valid, schema, validator_class
from reconciler.config.plain import reads_as
from reconciler.config.rules import (
    look_alike_titles,
    overlong_messages,
    overlong_refs,
    renamed_conflicts,
    repeated_ignoring_case,
    uncomposed,
)
from reconciler.config.schema_words import describe
from reconciler.config.wording import (
    characters,
    cut,
    differing,
    quote_it,
    shown,
)
from reconciler.config.yaml_nodes import Mapping, Node, Scalar, Sequence, kind_of
from reconciler.errors import Problem, Severity
from reconciler.model import (
    CONTROL_RULE,
    MESSAGE_CONTROL_RULE,
    MESSAGE_LIMIT,
    REF_LIMIT,
    code_point,
    control_characters,
    fold,
    invisible,
    is_bidi,
    shared_refs,
)

_TRUE_FALSE = {"true", "false", "True", "False", "TRUE", "FALSE"}
#: The keys that hold text, in a channel and in a link.
_CHANNEL_TEXT = ("account", "display_name")
_LINK_TEXT = ("title", "ref", "message")
_SHOWS_NOTHING, _SHOW_NOTHING = "a character that shows nothing", "characters that show nothing"


def tree_problems(path: str, root: Node) -> list[Problem]:
    """Every problem of the config tree ``root`` (of the file named ``path``), unsorted:
    schema errors in words, then the rules the schema can't say (a duplicate ref warns)."""
    checker = _Checker(path, root)
    checker.run()
    return checker.problems


class _Checker:
    """Collects the problems of one config tree into ``problems``."""

    def __init__(self, path: str, root: Node) -> None:
        self.path = path
        self.root = root
        self.problems: list[Problem] = []

    def add(self, node: Node, code: str, message: str, severity: Severity = Severity.ERROR) -> None:
        """Record a problem at ``node``'s position."""
        self.problems.append(
            Problem(
                path=self.path,
                line=node.line,
                col=node.col,
                severity=severity,
                code=code,
                message=message,
            )
        )

    def run(self) -> None:
        """Check the whole tree: its top level, then the schema, then the other rules."""
        if not isinstance(self.root, Mapping):
            kind = "list" if isinstance(self.root, Sequence) else kind_of(self.root.value)
            self.add(
                self.root,
                "type",
                f"the top level must be a mapping with 'version' and 'channels', not a {kind}",
            )
            return
        self.schema_problems()
        self.semantic_problems()

    # --- what the schema says ---------------------------------------------------------------

    def schema_problems(self) -> None:
        """One problem per schema error (and position), in our words (``describe``)."""
        if known_valid(self.root.value):
            return
        validator = validator_class()(schema())
        seen: set[tuple[int, int, str]] = set()
        for error in validator.iter_errors(self.root.value):
            for node, code, message in describe(error, self.node_at(error.absolute_path)[0]):
                key = (node.line, node.col, message)
                if key not in seen:
                    seen.add(key)
                    self.add(node, code, message)

    def node_at(self, path: Iterable[Any]) -> tuple[Node, Scalar | None]:
        """The node at a jsonschema path, and the key node that leads to it (if any)."""
        node: Node = self.root
        key: Scalar | None = None
        for part in path:
            if isinstance(node, Mapping):
                key = node.keys[part]
                node = node.nodes[part]
            elif isinstance(node, Sequence):
                key = None
                node = node.nodes[part]
        return node, key

    # --- what the schema can't say ----------------------------------------------------------

    def semantic_problems(self) -> None:
        """The rules the schema can't say: version written as 1, strict booleans, NaN,
        accounts unique ignoring case, and each channel's links (``link_problems``)."""
        root = self.root
        assert isinstance(root, Mapping)
        version = root.nodes.get("version")
        if (
            isinstance(version, Scalar)
            and not isinstance(version.value, bool)
            and version.value == 1
            and version.raw != "1"
        ):
            # JSON Schema takes 1.0 for 1, and YAML 1.1 reads 0x1, +1 and 0b1 as 1 too.
            self.add(version, "version", f"write 'version: 1', not {shown(version.raw)}")
        channels = root.nodes.get("channels")
        if not isinstance(channels, Sequence):
            return
        accounts: list[tuple[Scalar, Mapping]] = []  # each account and the channel that holds it
        for channel in channels.nodes:
            if not isinstance(channel, Mapping):
                continue
            self.strict_booleans(channel)
            self.text_problems(channel, _CHANNEL_TEXT)
            pct = channel.nodes.get("max_change_pct")
            if isinstance(pct, Scalar) and isinstance(pct.value, float) and math.isnan(pct.value):
                self.add(
                    pct, "range", f"max_change_pct must be between 0 and 100, not {cut(pct.raw)}"
                )
            accounts.extend(_text_at(channel, "account"))
            links = channel.nodes.get("links")
            if isinstance(links, Sequence):
                self.link_problems(links)
        self.repeated_names(accounts, "account", "duplicate-account", "is declared twice")

    def strict_booleans(self, channel: Mapping) -> None:
        """``protect``, ``remove`` and ``prune`` as YAML 1.2 writes booleans, not YAML 1.1's
        yes/on."""
        for name in ("protect", "remove", "prune"):
            node = channel.nodes.get(name)
            if (
                isinstance(node, Scalar)
                and isinstance(node.value, bool)
                and node.raw not in _TRUE_FALSE
            ):
                self.add(node, "type", f"{name} must be true or false, not {node.raw!r}")

    def repeated_names(
        self, named: list[tuple[Scalar, Mapping]], key: str, code: str, twice: str
    ) -> None:
        """A problem for each text ``key`` of ``named`` (each with the mapping that holds it)
        that matches an earlier one ignoring case, saying it ``twice``."""
        self.repeats(
            repeated_ignoring_case([node.value for node, _ in named]),
            named,
            code,
            lambda node, first: (
                f"{key} {shown(node.value)} {twice} (first at line "
                f"{first.line}); {key}s match ignoring case"
            ),
        )

    def repeats(
        self,
        found: dict[str, list[int]],
        named: list[tuple[Scalar, Mapping]],
        code: str,
        say: Callable[[Scalar, Scalar], str],
        severity: Severity = Severity.ERROR,
    ) -> None:
        """A problem at every occurrence but the first of each value ``found`` repeated (as
        indexes into ``named``), worded by ``say(node, first)``."""
        for indexes in found.values():
            first = named[indexes[0]][0]
            for index in indexes[1:]:
                node, holder = named[index]
                self.add(_occurrence(node, first, holder), code, say(node, first), severity)

    def text_problems(self, holder: Mapping, names: tuple[str, ...]) -> None:
        """For each text key of ``holder`` in ``names``: an error when it is written so that
        YAML 1.1 or YAML 1.2 reads it as other than text (``plain.reads_as``), and the
        characters that show nothing in it (``model.invisible``): a warning naming each, an
        error for a bidi control in a title or display name."""
        for name in names:
            node = holder.nodes.get(name)
            if isinstance(node, Scalar):
                self.text_problem(name, node)

    def text_problem(self, name: str, node: Scalar) -> None:
        """``text_problems`` of one text ``node``, the value of key ``name``: an error for a
        control character (``model.control_characters``) too."""
        if not isinstance(node.value, str):
            return  # the schema reports a value of another type
        reading = reads_as(node.raw) if node.plain else None
        if reading is not None:
            self.add(
                node,
                "type",
                f"{name} must be a string, not a {reading.kind} "
                f"({reading.reader} reads {cut(node.raw)} as one){quote_it(name, node)}",
            )
        if name in ("account", "ref"):
            return  # their patterns refuse any control or invisible character
        controls = control_characters(node.value, message=name == "message")
        if controls:
            self.add(
                node,
                "control-character",
                f"{name} has {characters(controls, 'a control character', 'control characters')}"
                f": remove {'them' if len(controls) > 1 else 'it'} "
                f"({MESSAGE_CONTROL_RULE if name == 'message' else CONTROL_RULE})",
            )
        changed = uncomposed(node.value)
        if changed:
            self.add(
                node,
                "not-composed",
                f"{name} is not in Unicode's composed form (NFC): "
                + ", ".join(code_point(c) for c in changed[:5])
                + "; it looks the same as the composed text SleekFlow's UI writes but is other "
                "text (another title, message or URL): write the composed characters",
                Severity.WARNING,
            )
        hidden = invisible(node.value)
        if not hidden:
            return
        bidi = [(i, c) for i, c in hidden if is_bidi(c)]
        if bidi and name in ("title", "display_name"):
            self.add(
                node,
                "bidi-control",
                f"{name} has "
                f"{characters(bidi, 'a bidirectional control', 'bidirectional controls')}: "
                f"it can make the {name.replace('_', ' ')} read differently from what it "
                "holds; remove it",
            )
            hidden = [(i, c) for i, c in hidden if not is_bidi(c)]
        if hidden:
            self.add(
                node,
                "invisible-character",
                f"{name} has {characters(hidden, _SHOWS_NOTHING, _SHOW_NOTHING)}: "
                "a plan shows it only as an escape; remove it unless it is meant",
                Severity.WARNING,
            )

    def link_problems(self, links: Sequence) -> None:
        """Titles unique ignoring case, messages within ``MESSAGE_LIMIT`` UTF-16 units, and a
        warning for each ref used again (``shared_refs``)."""
        titles: list[tuple[Scalar, Mapping]] = []  # each title and the link that holds it
        messages: list[tuple[Scalar, Mapping]] = []
        refs: list[tuple[Scalar, Mapping]] = []
        for link in links.nodes:
            if isinstance(link, Mapping):
                self.text_problems(link, _LINK_TEXT)
                for old in _renamed_nodes(link):
                    self.text_problem("renamed_from", old)
                titles.extend(_text_at(link, "title"))
                messages.extend(_text_at(link, "message"))
                refs.extend(_text_at(link, "ref"))
        self.repeated_names(titles, "title", "duplicate-title", "is used twice in this channel")
        self.renamed_problems(links)
        too_long = [
            (
                messages,
                overlong_messages,
                "message is {:,} characters long (UTF-16 code units: "
                f"an emoji counts 2); the limit is {MESSAGE_LIMIT}",
            ),
            (
                refs,
                overlong_refs,
                "ref is {:,} characters long percent-encoded, as in the "
                f"link's URL (each '=' is 3: %3D); TikTok's limit is {REF_LIMIT:,}",
            ),
        ]
        for named, overlong, says in too_long:
            for index, length in overlong([node.value for node, _ in named]).items():
                self.add(named[index][0], "too-long", says.format(length))
        for group in look_alike_titles([node.value for node, _ in titles]):
            first = titles[group[0]][0]
            for index in group[1:]:
                node, holder = titles[index]
                self.add(
                    _occurrence(node, first, holder),
                    "look-alike-title",
                    f"title {shown(node.value)} looks the same as title {shown(first.value)} "
                    f"(line {first.line}){differing(node.value, first.value)}: "
                    "a reader can't tell these links apart",
                    Severity.WARNING,
                )
        self.repeats(
            shared_refs([node.value for node, _ in refs]),
            refs,
            "duplicate-ref",
            lambda ref, first: (
                f"ref {shown(ref.value)} is also used at line {first.line}: "
                "tracking can't tell these links apart"
            ),
            Severity.WARNING,
        )

    def renamed_problems(self, links: Sequence) -> None:
        """An error for each ``renamed_from`` title that another declared link of the channel
        has, or that an earlier link claims too (``renamed_conflicts``)."""
        mappings = [link for link in links.nodes if isinstance(link, Mapping)]
        renamed = [_renamed_nodes(link) for link in mappings]
        if not any(renamed):
            return
        titled = [_text_at(link, "title") for link in mappings]
        titles = [found[0][0].value if found else None for found in titled]
        for conflict in renamed_conflicts(titles, [[n.value for n in olds] for olds in renamed]):
            node = renamed[conflict.link][conflict.item]
            other = mappings[conflict.other]
            if conflict.titled:
                at = titled[conflict.other][0][0]
                self.add(
                    node,
                    "renamed-from-declared",
                    f"renamed_from {shown(node.value)} is the title of another link of this "
                    f"channel (line {at.line}): a link can't be renamed from one that stays; "
                    "remove it from renamed_from",
                )
            else:
                first = next(
                    (n for n in renamed[conflict.other] if fold(n.value) == fold(node.value)),
                    other,
                )
                self.add(
                    node,
                    "renamed-from-twice",
                    f"renamed_from {shown(node.value)} is also claimed by the link at line "
                    f"{first.line}: only one link can be renamed from a title",
                )


def _renamed_nodes(link: Mapping) -> list[Scalar]:
    """The text nodes of a link's ``renamed_from`` (one title, or a list of them)."""
    node = link.nodes.get("renamed_from")
    items = node.nodes if isinstance(node, Sequence) else [node]
    return [item for item in items if isinstance(item, Scalar) and isinstance(item.value, str)]


def _text_at(holder: Mapping, key: str) -> list[tuple[Scalar, Mapping]]:
    """``[(node, holder)]`` when ``holder``'s ``key`` is text, else ``[]`` (the schema
    reports a value of another type)."""
    node = holder.nodes.get(key)
    if isinstance(node, Scalar) and isinstance(node.value, str):
        return [(node, holder)]
    return []


def _occurrence(node: Scalar, first: Scalar, holder: Node) -> Node:
    """Where to report a second occurrence of a value: at ``node``, unless it is the very node
    of the first (both reached through one anchor), then at ``holder``, the alias that holds it."""
    return holder if node is first else node
