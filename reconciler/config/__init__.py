"""Config text -> validated desired state.

``check(text, path)`` finds every problem of a config text at once (YAML, schema, and the
rules a schema can't say); ``load(path)`` reads a file and returns a ``DesiredState`` or raises
one ``ConfigError`` carrying all of them. Nothing here does I/O but reading the file it is
given. The modules of the package, in the order a file meets them:

- ``files``: a config file's bytes and text (the size limit, the encoding);
- ``fast``: the fast path, plain data straight from libyaml's events, for a valid file;
- ``yaml_strict``: the strict reader, every node with its position (``yaml_nodes``), for a file
  the fast path declines; ``yaml_events`` and ``positions`` serve both readers;
- ``json_schema``: the workspace JSON Schema and its two validators;
- ``plain``: what YAML 1.1 and YAML 1.2 read a plain scalar as (text must be text in both);
- ``checks``: every problem of a positioned tree, at its position, worded by ``wording``;
- ``rules``: the rules a schema can't say, which ``checks`` and ``fast`` both call (titles
  that look alike by ``confusables``, UTS #39's skeleton over Unicode's data);
- ``desired``: checked data -> ``DesiredState``;
- ``write``: config written back (``export``, and the desired state a saved plan records).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from reconciler.config.checks import tree_problems
from reconciler.config.desired import desired_state
from reconciler.config.fast import fast_desired
from reconciler.config.files import (
    MAX_CONFIG_BYTES,
    decode,
    max_config_bytes,
    read_bytes,
    read_text,
)
from reconciler.config.json_schema import schema
from reconciler.config.yaml_nodes import Mapping
from reconciler.config.yaml_strict import read
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.model import DesiredState

__all__ = [
    "MAX_CONFIG_BYTES",
    "check",
    "check_file",
    "check_full",
    "load",
    "load_with_digest",
    "max_config_bytes",
    "read_text",
    "schema",
]


def load(path: str | Path) -> DesiredState:
    """Read and validate a config file. Raises ``ConfigError`` with every error found."""
    return _valid(read_text(path), str(path))


def load_with_digest(path: str | Path) -> tuple[DesiredState, str]:
    """``load``, and the sha256 of the very bytes it read (what a saved plan records)."""
    data = read_bytes(path)
    return _valid(decode(data, str(path)), str(path)), hashlib.sha256(data).hexdigest()


def check_file(path: str) -> tuple[DesiredState | None, list[Problem]]:
    """``check`` of the file at ``path`` (``validate``): its desired state (None when there
    is any error) and every problem. Raises ``ConfigError`` when the file can't be read."""
    return check(read_text(path), path)


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
    fast = fast_desired(text)
    if fast is not None:
        return fast, []
    return check_full(text, path)


def check_full(text: str, path: str) -> tuple[DesiredState | None, list[Problem]]:
    """``check`` without the fast path: every node read with its position."""
    root, yaml_problems = read(text)
    problems = [
        Problem(
            path=path,
            line=p.line,
            col=p.col,
            severity=Severity.ERROR,
            code=p.code,
            message=p.message,
        )
        for p in yaml_problems
    ]
    if root is None:
        if not problems:
            problems.append(
                Problem(
                    path=path,
                    line=1,
                    col=1,
                    severity=Severity.ERROR,
                    code="empty",
                    message="the file is empty: it needs 'version: 1' and 'channels'",
                )
            )
        return None, sorted(problems, key=Problem.sort_key)
    problems.extend(tree_problems(path, root))
    problems.sort(key=Problem.sort_key)
    if not isinstance(root, Mapping) or any(p.severity is Severity.ERROR for p in problems):
        return None, problems  # a top level that isn't a mapping is one of the errors
    return desired_state(root.value), problems
