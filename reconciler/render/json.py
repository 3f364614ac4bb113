"""The JSON plan (``plan --format json`` and saved plan files) and the JSON apply result."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: keeps plan's start-up free of apply's imports
    from reconciler.apply import ApplyResult
    from reconciler.plan import Plan

#: A lone surrogate can only sit inside a JSON string, where ``\uXXXX`` means the same.
_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 kept as is.

    A lone surrogate (a JSON API can send ``"\\ud800"``) is written as its escape, so the
    text can always be encoded as UTF-8 and reads back as the same data.
    """
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def render_plan(plan: Plan) -> str:
    """The JSON plan (``schemas/plan.schema.json``)."""
    return dumps(plan.to_dict())


def render_apply(result: ApplyResult) -> str:
    """The JSON apply result: applied, failed, not applied, and ``url_changes``."""
    return dumps(result.to_dict())
