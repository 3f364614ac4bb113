"""Renderers: a Plan (or an apply result) in, a string out. They decide nothing."""

from __future__ import annotations

import re

#: A lone surrogate (a JSON API can send ``"\ud800"``) can't be encoded as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate written as its ``\\uXXXX`` escape, so it can always be
    encoded as UTF-8 (inside a JSON string the escape means the same character)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
