"""Config file -> validated desired state.

``check(text, path)`` finds every problem of a config text at once (YAML, schema, and the
rules a schema can't say); ``load(path)`` reads a file and returns a ``DesiredState`` or raises
one ``ConfigError`` carrying all of them. Nothing here does I/O but ``read_text``/``load``.

A plain, valid file takes the fast path (``yamlplain``, no positions); anything else is read
again with positions (``yamlread``) and judged by ``configcheck``. Reading the file is
``configfile``'s, the schema ``configschema``'s; their public names are importable from here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from reconciler.config.checks import tree_problems
from reconciler.config.fast import read_plain
from reconciler.config.files import (
    MAX_CONFIG_BYTES,
    decode,
    max_config_bytes,
    read_bytes,
    read_text,
)
from reconciler.config.json_schema import known_valid, schema
from reconciler.config.yaml_nodes import Mapping
from reconciler.config.yaml_strict import read
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.model import (
    DEFAULT_MAX_CHANGE_PCT,
    MESSAGE_LIMIT,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    fold,
    utf16_len,
)

__all__ = [
    "MAX_CONFIG_BYTES",
    "MESSAGE_LIMIT",
    "check",
    "check_full",
    "load",
    "load_with_digest",
    "max_config_bytes",
    "read_text",
    "schema",
    "utf16_len",
]


def load(path: str | Path) -> DesiredState:
    """Read and validate a config file. Raises ``ConfigError`` with every error found."""
    return _valid(read_text(path), str(path))


def load_with_digest(path: str | Path) -> tuple[DesiredState, str]:
    """``load``, and the sha256 of the very bytes it read (what a saved plan records)."""
    data = read_bytes(path)
    return _valid(decode(data, str(path)), str(path)), hashlib.sha256(data).hexdigest()


def _valid(text: str, path: str) -> DesiredState:
    state, problems = check(text, path)
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
    problems.extend(tree_problems(path, root))
    problems.sort(key=Problem.sort_key)
    if not isinstance(root, Mapping) or any(p.severity is Severity.ERROR for p in problems):
        return None, problems  # a top level that isn't a mapping is one of the errors
    return _desired(root.value), problems


def _fast_desired(text: str) -> DesiredState | None:
    """The desired state of a plain, valid config with nothing to warn about, read without
    positions; None whenever the full check must run (it alone words problems)."""
    data = read_plain(text)
    if type(data) is not dict or type(data.get("version")) is not int:
        return None  # version 1.0 passes the schema but is refused below
    if not known_valid(data):
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
                # A duplicate title is an error; a duplicate ref (``shared_refs``) a warning.
                return None
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
    """The desired state of config data the checks passed."""
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
    """The desired channel of checked channel data ``ch``, with its ``links``."""
    return DesiredChannel(
        account=ch["account"],
        display_name=ch.get("display_name"),
        links=links,
        protect=ch.get("protect", False),
        remove=ch.get("remove", False),
        max_change_pct=float(ch.get("max_change_pct", DEFAULT_MAX_CHANGE_PCT)),
    )
