"""What both YAML readers share: libyaml's parser, YAML 1.1's plain-scalar resolvers, the
nesting bound, and the pause of the garbage collector while a file is read.

The strict reader (``yaml_strict``) and the fast one (``fast``) both walk libyaml's event
stream rather than use PyYAML's loaders; this module is the ground they stand on.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import yaml

try:
    from yaml import CSafeLoader as Loader

    #: libyaml reads UTF-8 bytes, so the ``position`` of its ``ReaderError`` is a byte offset.
    POSITION_IN_BYTES = True
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

    POSITION_IN_BYTES = False

__all__ = ["MAX_DEPTH", "POSITION_IN_BYTES", "RESOLVERS", "STR_TAG", "Loader", "gc_paused"]

#: How deeply collections may nest. A config needs five levels (top, channels, channel, links,
#: link); the bound keeps the recursive builder far from Python's recursion limit.
MAX_DEPTH = 64

#: The tag of text, and the implicit resolvers (by first character) that read a plain scalar
#: as YAML 1.1 does.
STR_TAG = "tag:yaml.org,2002:str"
RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Turn the cyclic garbage collector off for the block (then back on if it was on).

    Reading a large file makes millions of small objects and no cycles: collections that
    find nothing to free would only slow the reading down (~0.3 s at 100,000 links).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
