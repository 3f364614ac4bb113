"""The JSON plan (``plan --format json`` and saved plan files) and the JSON apply result."""

from __future__ import annotations

import json
from typing import Any

from reconciler.apply import ApplyResult
from reconciler.plan import Plan


def dumps(data: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, UTF-8 kept as is."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_plan(plan: Plan) -> str:
    return dumps(plan.to_dict())


def render_apply(result: ApplyResult) -> str:
    return dumps(result.to_dict())
