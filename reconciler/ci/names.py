"""What a CI job names after its config: the marker line of its comment or issue, and the
directory of its files. One of each per config, so a matrix over several configs (or several
configs in one job) never mixes two comments or two plans up."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from reconciler.errors import ReconcilerError

#: Longer names are cut and end with a hash of the whole path.
_MAX_NAME = 80


def marker(kind: str, config: str) -> str:
    """The first line of a comment or issue, which the workflow finds it by:
    ``<!-- reconciler-plan: workspace.yaml -->`` (a long path is named by its hash)."""
    safe = re.sub(r"[^A-Za-z0-9._/-]", "_", config).replace("--", "__")
    if len(safe) > 100:
        safe = "sha256-" + _digest(config)
    return f"<!-- {kind}: {safe} -->"


def directory_name(config: str) -> str:
    """The name of the directory a job writes a config's files in (and the plan apply reads
    back): the path without its YAML suffix, ``/`` as ``-``, other unsafe characters as
    ``_`` (``links/us.yaml`` -> ``links-us``)."""
    path = PurePosixPath(config.replace("\\", "/"))
    stem = str(path.with_suffix("")) if path.suffix.lower() in (".yaml", ".yml") else str(path)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", stem.replace("/", "-")).strip("._-") or "config"
    if len(name) > _MAX_NAME:
        name = f"{name[: _MAX_NAME - 17]}-{_digest(config)[:16]}"
    return name


def directory_names(configs: Iterable[str]) -> dict[str, str]:
    """``directory_name`` of each config, refusing two configs that would share one."""
    names: dict[str, str] = {}
    for config in configs:
        name = directory_name(config)
        other = next((c for c, n in names.items() if n == name and c != config), None)
        if other is not None:
            raise ReconcilerError(
                f"{config} and {other} would both write their CI files to '{name}': "
                "rename one of them, or run them in separate jobs"
            )
        names[config] = name
    return names


def _digest(config: str) -> str:
    return hashlib.sha256(config.encode("utf-8", "surrogatepass")).hexdigest()
