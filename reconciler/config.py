"""Config file -> validated desired state.

``check(text, path)`` finds every problem of a config text at once (YAML, schema, and the
rules a schema can't say); ``load(path)`` reads a file and returns a ``DesiredState`` or raises
one ``ConfigError`` carrying all of them. Nothing here does I/O but ``read_text``/``load``.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from reconciler import schema_text
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.model import (
    DEFAULT_MAX_CHANGE_PCT,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    fold,
)
from reconciler.yamlplain import read_plain
from reconciler.yamlread import Mapping, Node, Scalar, Sequence, kind_of, line_col, read

#: A config larger than this is refused before it is parsed.
MAX_CONFIG_BYTES = 32 * 1024 * 1024
MESSAGE_LIMIT = 500

_TRUE_FALSE = {"true", "false", "True", "False", "TRUE", "FALSE"}
_FIELD_HELP = {
    "account": "a TikTok username: 2-24 letters, digits, '_' or '.', not ending in '.'",
    "ref": "1-64 characters of A-Z a-z 0-9 _ - .",
}


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


@cache
def schema() -> dict[str, Any]:
    """The workspace JSON Schema shipped inside the package."""
    text = schema_text("workspace.schema.json")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema (ECMA-262) pattern so it means in Python what it means there.

    The differences our schema meets: an ECMA ``$`` matches only at the very end, where
    Python's also matches before a final newline (so ``"acme\\n"`` would pass as an account):
    each ``$`` outside a character class becomes ``\\Z``. And ECMA's ``\\s`` is its own set
    of white space (U+0085 and U+001C-U+001F are not in it, U+FEFF is): ``\\s`` and ``\\S``
    outside a class become that set and its complement.
    """
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
            if char in "sS" and not in_class:
                out[-1] = f"[{'^' if char == 'S' else ''}{_ECMA_SPACE}]"
                continue
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


#: ECMA-262's WhiteSpace and LineTerminator code points, for a character class.
_ECMA_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, _schema: Any) -> Iterator[Any]:
    """The ``pattern`` keyword with ECMA-262 semantics (see ``_ecma_regex``)."""
    from jsonschema import ValidationError

    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 ``pattern``: what an editor using the schema would say."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _fast_validator() -> Any:
    """jsonschema-rs over the same schema: ~85x faster than the Python validator on a
    100,000-link file, but its errors are not what we report. None when it isn't installed."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return jsonschema_rs.validator_for(schema())


def _known_valid(data: Any) -> bool:
    """True when the fast validator accepts ``data``; False when it rejects it, or can't tell
    (then the Python validator decides, and says why)."""
    validator = _fast_validator()
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(data))
    except Exception:  # a value it can't take (a date, a huge int): let the slow path judge
        return False


def max_config_bytes() -> int:
    """The size limit: ``MAX_CONFIG_BYTES``, or ``RECONCILER_MAX_CONFIG_MB`` when set (for
    very large workspaces; see docs/benchmarks.md for what a size costs)."""
    raw = os.environ.get("RECONCILER_MAX_CONFIG_MB", "").strip()
    if not raw:
        return MAX_CONFIG_BYTES
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes <= 4096:
        raise ConfigError(
            [
                Problem(
                    "RECONCILER_MAX_CONFIG_MB",
                    None,
                    None,
                    Severity.ERROR,
                    "environment",
                    f"must be a number of MiB from 0 to 4096, not {raw!r}",
                )
            ]
        )
    return int(megabytes * 2**20)


def read_text(path: str | Path, *, max_bytes: int | None = None) -> str:
    """Read a config file as UTF-8 text (a UTF-8 BOM is allowed), or raise ``ConfigError``.

    A file larger than ``max_bytes`` is refused without being read: by its size when it has
    one, else (a pipe, a device) after ``max_bytes + 1`` bytes.
    """
    name = str(path)
    p = Path(path)
    if max_bytes is None:
        max_bytes = max_config_bytes()

    def fail(message: str, line: int | None = None, col: int | None = None) -> ConfigError:
        return ConfigError([Problem(name, line, col, Severity.ERROR, "file", message)])

    limit = f"{max_bytes / 2**20:g} MiB" if max_bytes >= 2**20 else f"{max_bytes:,} bytes"

    if not name:
        raise fail("no file name given")
    try:
        if p.is_dir():
            raise fail("is a directory, not a config file")
        size = p.stat().st_size
        if size > max_bytes:
            shown = f"{size / 2**20:.1f} MiB" if max_bytes >= 2**20 else f"{size:,} bytes"
            raise fail(f"file is {shown}; the limit is {limit}")
        with p.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. a NUL byte in the name
        raise fail(f"cannot read: {exc}") from None
    if len(data) > max_bytes:
        raise fail(f"file is larger than the {limit} limit")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise fail(
                f"the file is {encoding} (it starts with a {encoding} byte order mark): "
                "save it as UTF-8",
                1,
                1,
            )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = line_col(data[: exc.start].decode("utf-8", "replace"))
        bad = data[exc.start : exc.start + 1].hex()
        raise fail(f"not valid UTF-8 (byte 0x{bad}): save the file as UTF-8", line, col) from None


def load(path: str | Path) -> DesiredState:
    """Read and validate a config file. Raises ``ConfigError`` with every error found."""
    state, problems = check(read_text(path), str(path))
    if state is None:
        raise ConfigError(problems)
    return state


def check(text: str, path: str) -> tuple[DesiredState | None, list[Problem]]:
    """Validate config ``text`` (named ``path`` in messages).

    Returns the desired state (None when there is any error) and all problems, errors and
    warnings, sorted by position.
    """
    fast = _fast_desired(text)
    if fast is not None:
        return fast, []
    return check_full(text, path)


def check_full(text: str, path: str) -> tuple[DesiredState | None, list[Problem]]:
    """``check`` without the fast path: every node read with its position."""
    root, yaml_problems = read(text)
    problems = [
        Problem(path, p.line, p.col, Severity.ERROR, p.code, p.message) for p in yaml_problems
    ]
    if root is None:
        if not problems:
            problems.append(
                Problem(
                    path,
                    1,
                    1,
                    Severity.ERROR,
                    "empty",
                    "the file is empty: it needs 'version: 1' and 'channels'",
                )
            )
        return None, sorted(problems, key=Problem.sort_key)
    checker = _Checker(path, root)
    checker.run()
    problems.extend(checker.problems)
    problems.sort(key=Problem.sort_key)
    if any(p.severity is Severity.ERROR for p in problems):
        return None, problems
    return _desired(root.value), problems


def _fast_desired(text: str) -> DesiredState | None:
    """The desired state of a plain, valid config with nothing to warn about, read without
    positions; None whenever the full check must run (it alone words problems)."""
    data = read_plain(text)
    if type(data) is not dict or type(data.get("version")) is not int:
        return None  # version 1.0 passes the schema but is refused below
    if not _known_valid(data):
        return None
    accounts: set[str] = set()
    channels = []
    for channel in data["channels"]:
        account = fold(channel["account"])
        if account in accounts:
            return None
        accounts.add(account)
        titles: set[str] = set()
        refs: set[str] = set()
        links = []
        for link in channel.get("links", ()):
            title = link["title"]
            folded = fold(title)
            ref = link.get("ref")
            message = link["message"]
            if folded in titles or ref in refs:
                return None  # a duplicate title is an error, a duplicate ref a warning
            titles.add(folded)
            if ref is not None:
                refs.add(ref)
            # At most 250 code points can't pass 500 UTF-16 units: skip the encoding then.
            if len(message) > MESSAGE_LIMIT // 2 and utf16_len(message) > MESSAGE_LIMIT:
                return None
            links.append(DesiredLink(title, message, ref))
        channels.append(_desired_channel(channel, tuple(links)))
    return DesiredState(channels=tuple(channels))


def _desired(data: dict[str, Any]) -> DesiredState:
    return DesiredState(
        channels=tuple(
            _desired_channel(
                ch,
                tuple(
                    DesiredLink(lk["title"], lk["message"], lk.get("ref"))
                    for lk in ch.get("links", ())
                ),
            )
            for ch in data["channels"]
        )
    )


def _desired_channel(ch: dict[str, Any], links: tuple[DesiredLink, ...]) -> DesiredChannel:
    return DesiredChannel(
        account=ch["account"],
        display_name=ch.get("display_name"),
        links=links,
        protect=ch.get("protect", False),
        remove=ch.get("remove", False),
        max_change_pct=float(ch.get("max_change_pct", DEFAULT_MAX_CHANGE_PCT)),
    )


def utf16_len(text: str) -> int:
    """Length as a web form counts it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def _a(node: Node) -> str:
    """``node``'s kind with its article: "a list", "an empty value", "null"."""
    if isinstance(node, Sequence):
        return "a list"
    if isinstance(node, Mapping):
        return "a mapping"
    if node.value is None:
        return "null" if node.raw else "an empty value"
    return f"a {kind_of(node.value)}"


class _Checker:
    def __init__(self, path: str, root: Node) -> None:
        self.path = path
        self.root = root
        self.problems: list[Problem] = []

    def add(self, node: Node, code: str, message: str, severity: Severity = Severity.ERROR) -> None:
        self.problems.append(Problem(self.path, node.line, node.col, severity, code, message))

    def run(self) -> None:
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
        if _known_valid(self.root.value):
            return
        validator = _validator_class()(schema())
        seen: set[tuple[int, int, str]] = set()
        for error in validator.iter_errors(self.root.value):
            for node, code, message in self.describe(error):
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

    def describe(self, error: Any) -> list[tuple[Node, str, str]]:
        path = list(error.absolute_path)
        node, _ = self.node_at(path)
        field = path[-1] if path and isinstance(path[-1], str) else _container_name(path)
        validator = error.validator
        if validator == "additionalProperties" and isinstance(node, Mapping):
            allowed = sorted(error.schema.get("properties", {}))
            out = []
            for extra in node.value:
                if extra not in allowed:
                    hint = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
                    suffix = (
                        f"; did you mean {hint[0]!r}?"
                        if hint
                        else f" (allowed: {', '.join(allowed)})"
                    )
                    out.append(
                        (node.keys[extra], "unknown-key", f"unknown key {_shown(extra)}{suffix}")
                    )
            return out
        if validator == "required" and isinstance(node, Mapping):
            out = []
            for name in error.validator_value:
                if name not in node.value:
                    where = _container_name(path)
                    extra = " (unless remove: true)" if name == "display_name" else ""
                    out.append(
                        (node, "required", f"{where} is missing required key {name!r}{extra}")
                    )
            return out
        if validator == "not" and isinstance(node, Mapping):
            return [
                (
                    node.keys["links"],
                    "remove-with-links",
                    "a channel with 'remove: true' takes no links",
                )
            ]
        if validator == "type":
            return [(node, "type", _type_message(field, error.validator_value, node))]
        if validator == "const" and field == "version":
            number = isinstance(node, Scalar) and isinstance(node.value, int | float)
            if number and not isinstance(node.value, bool):
                message = (
                    f"unsupported version {_cut(node.raw)}: this reconciler reads 'version: 1'"
                )
            else:
                message = f"version must be the number 1, not {_a(node)}: write 'version: 1'"
            return [(node, "version", message)]
        if validator == "pattern":
            if error.validator_value == "\\S":
                return [(node, "blank", f"{field} must not be blank")]
            return [
                (
                    node,
                    "pattern",
                    f"{field} {_shown(error.instance)} is not valid: "
                    f"{_FIELD_HELP.get(field, error.validator_value)}",
                )
            ]
        if validator == "maxLength":
            if field == "message":
                return []  # counted in UTF-16 code units by semantic_problems
            return [
                (
                    node,
                    "too-long",
                    f"{field} is {len(error.instance)} characters long; "
                    f"the limit is {error.validator_value}",
                )
            ]
        if validator in ("minimum", "maximum"):
            raw = _cut(node.raw) if isinstance(node, Scalar) else error.instance
            return [(node, "range", f"{field} must be between 0 and 100, not {raw}")]
        return [(node, validator, f"{field}: {error.message}")]  # pragma: no cover - all mapped

    # --- what the schema can't say ----------------------------------------------------------

    def semantic_problems(self) -> None:
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
            self.add(version, "version", f"write 'version: 1', not {_shown(version.raw)}")
        channels = root.nodes.get("channels")
        if not isinstance(channels, Sequence):
            return
        accounts: dict[str, Scalar] = {}
        for channel in channels.nodes:
            if not isinstance(channel, Mapping):
                continue
            self.strict_booleans(channel)
            pct = channel.nodes.get("max_change_pct")
            if isinstance(pct, Scalar) and isinstance(pct.value, float) and math.isnan(pct.value):
                self.add(
                    pct, "range", f"max_change_pct must be between 0 and 100, not {_cut(pct.raw)}"
                )
            account = channel.nodes.get("account")
            if isinstance(account, Scalar) and isinstance(account.value, str):
                first = accounts.get(fold(account.value))
                if first is None:
                    accounts[fold(account.value)] = account
                else:
                    self.add(
                        _occurrence(account, first, channel),
                        "duplicate-account",
                        f"account {_shown(account.value)} is declared twice "
                        f"(first at line {first.line}); accounts match ignoring case",
                    )
            links = channel.nodes.get("links")
            if isinstance(links, Sequence):
                self.link_problems(links)

    def strict_booleans(self, channel: Mapping) -> None:
        for name in ("protect", "remove"):
            node = channel.nodes.get(name)
            if (
                isinstance(node, Scalar)
                and isinstance(node.value, bool)
                and node.raw not in _TRUE_FALSE
            ):
                self.add(node, "type", f"{name} must be true or false, not {node.raw!r}")

    def link_problems(self, links: Sequence) -> None:
        titles: dict[str, Scalar] = {}
        refs: dict[str, Scalar] = {}
        for link in links.nodes:
            if not isinstance(link, Mapping):
                continue
            title = link.nodes.get("title")
            if isinstance(title, Scalar) and isinstance(title.value, str):
                first = titles.get(fold(title.value))
                if first is None:
                    titles[fold(title.value)] = title
                else:
                    self.add(
                        _occurrence(title, first, link),
                        "duplicate-title",
                        f"title {_shown(title.value)} is used twice in this channel (first at "
                        f"line {first.line}); titles match ignoring case",
                    )
            message = link.nodes.get("message")
            if isinstance(message, Scalar) and isinstance(message.value, str):
                length = utf16_len(message.value)
                if length > MESSAGE_LIMIT:
                    self.add(
                        message,
                        "too-long",
                        f"message is {length} characters long (UTF-16 code units: "
                        f"an emoji counts 2); the limit is {MESSAGE_LIMIT}",
                    )
            ref = link.nodes.get("ref")
            if isinstance(ref, Scalar) and isinstance(ref.value, str):
                first_ref = refs.get(ref.value)
                if first_ref is None:
                    refs[ref.value] = ref
                else:
                    self.add(
                        _occurrence(ref, first_ref, link),
                        "duplicate-ref",
                        f"ref {_shown(ref.value)} is also used at line {first_ref.line}: "
                        "tracking can't tell these links apart",
                        Severity.WARNING,
                    )


def _occurrence(node: Scalar, first: Scalar, holder: Node) -> Node:
    """Where to report a second occurrence of a value: at ``node``, unless it is the very node
    of the first (both reached through one anchor), then at ``holder``, the alias that holds it."""
    return holder if node is first else node


#: How much of a value a message quotes: a 10 MB title is named by its start and its size.
_SHOWN = 80


def _shown(value: str) -> str:
    """``value`` quoted for a message, cut to ``_SHOWN`` characters (saying how long it is)."""
    if len(value) <= _SHOWN:
        return repr(value)
    return f"{value[:_SHOWN]!r}... ({len(value):,} characters)"


def _cut(raw: str) -> str:
    """A value as written (unquoted), cut to ``_SHOWN`` characters."""
    return raw if len(raw) <= _SHOWN else f"{raw[:_SHOWN]}... ({len(raw):,} characters)"


def _container_name(path: list[Any]) -> str:
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return "the top level"
    last = names[-1]
    if isinstance(path[-1], int):
        return {"channels": "channel", "links": "link"}.get(last, last)
    return last


def _type_message(field: str, expected: str, node: Node) -> str:
    wanted = {
        "string": "a string",
        "array": "a list",
        "object": "a mapping",
        "boolean": "true or false",
        "number": "a number",
    }.get(expected, expected)
    message = f"{field} must be {wanted}, not {_a(node)}"
    if field == "ref" and isinstance(node, Scalar) and node.value is None:
        # ``ref: null`` or ``ref:`` almost always means "no tag", which is said by leaving it out.
        message += "; for a link without a referral tag, leave ref out"
        if node.plain and node.raw.isalpha():
            message += f' (or quote it, ref: "{node.raw}", if the tag is that word)'
        return message
    if expected == "string" and isinstance(node, Scalar) and node.plain and node.raw:
        if len(node.raw) <= _SHOWN:
            message += f'; quote it: {field}: "{node.raw}"'
        else:
            message += "; quote it"
    return message
