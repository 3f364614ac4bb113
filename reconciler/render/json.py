"""The JSON plan (``plan --format json`` and saved plan files) and the JSON apply result."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reconciler.render import escape_surrogates

if TYPE_CHECKING:  # only for annotations: keeps plan's start-up free of apply's imports
    from reconciler.apply import ApplyResult
    from reconciler.plan import Plan


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 kept as is.

    A lone surrogate (a JSON API can send ``"\\ud800"``) is written as its escape, so the
    text can always be encoded as UTF-8 and reads back as the same data; so is the ``[`` of
    a ``##[`` (only ever inside a string), which GitHub Actions' runner would run as a
    workflow command from a step's output.
    """
    text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False)
    return escape_surrogates(text).replace("##[", "##\\u005b") + "\n"


def render_plan(plan: Plan) -> str:
    """The JSON plan (``schemas/plan.schema.json``)."""
    return dumps(plan.to_dict())


def render_apply(result: ApplyResult) -> str:
    """The JSON apply result: applied, failed, not applied, and ``url_changes``."""
    return dumps(result.to_dict())
