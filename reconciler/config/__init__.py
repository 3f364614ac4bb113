"""Config text -> validated desired state.

``check(text, path)`` finds every problem of a config text at once (YAML, schema, and the
rules a schema can't say); ``load_paths(paths)`` reads the files of one or more PATHs (a
directory: its YAML files) and returns their desired state with each file's sha256, or raises
one ``ConfigError`` carrying every problem of every file. Nothing here does I/O but reading
the files it is given. The modules of the package, in the order a file meets them:

- ``sources``: PATHs -> the files of one config, checked each and across files (a channel
  declared in two is an error);
- ``files``: a config file's bytes and text (the size limit, the encoding);
- ``text``: one text -> its desired state and problems, by the fast path or the full check;
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

from pathlib import Path

from reconciler.config.files import MAX_CONFIG_BYTES, max_config_bytes, read_text
from reconciler.config.json_schema import schema
from reconciler.config.sources import (
    Checked,
    ConfigFile,
    Loaded,
    check_paths,
    refuse_overwriting,
)
from reconciler.config.sources import load as load_paths
from reconciler.config.text import check, check_full
from reconciler.model import DesiredState

__all__ = [
    "MAX_CONFIG_BYTES",
    "Checked",
    "ConfigFile",
    "Loaded",
    "check",
    "check_full",
    "check_paths",
    "load",
    "load_paths",
    "load_with_digest",
    "max_config_bytes",
    "read_text",
    "refuse_overwriting",
    "schema",
]


def load(path: str | Path) -> DesiredState:
    """Read and validate a config (a file, or a directory of them). Raises ``ConfigError``
    with every error found."""
    return load_paths([str(path)]).desired


def load_with_digest(path: str | Path) -> tuple[DesiredState, str]:
    """``load``, and the sha256 of the very bytes it read (what a saved plan records)."""
    loaded = load_paths([str(path)])
    return loaded.desired, loaded.sha256
