"""A JSON Schema error of a config, in words: which node it is about, its code, and a
message a person can act on (a "did you mean" for an unknown key, the account rule, the fix
for a likely mistake). ``checks`` calls ``describe`` for each error the schema finds."""

from __future__ import annotations

import difflib
from typing import Any

from reconciler.config.wording import (
    a_kind,
    container_name,
    cut,
    ref_characters,
    shown,
    type_message,
)
from reconciler.config.yaml_nodes import Mapping, Node, Scalar
from reconciler.model import ACCOUNT_RULE

_FIELD_HELP = {"account": f"a TikTok username: {ACCOUNT_RULE}"}


def describe(error: Any, node: Node) -> list[tuple[Node, str, str]]:
    """What a jsonschema ``error`` means for the file, ``node`` being the node it is about
    (at ``error.absolute_path``): ``(node, code, message)`` each, in our words."""
    path = list(error.absolute_path)
    out: list[tuple[Node, str, str]] = []
    field = path[-1] if path and isinstance(path[-1], str) else container_name(path)
    validator = error.validator
    if validator == "additionalProperties" and isinstance(node, Mapping):
        allowed = sorted(error.schema.get("properties", {}))
        for extra in node.value:
            if extra not in allowed:
                hint = difflib.get_close_matches(extra, allowed, n=1, cutoff=0.6)
                suffix = (
                    f"; did you mean {hint[0]!r}?" if hint else f" (allowed: {', '.join(allowed)})"
                )
                out.append((node.keys[extra], "unknown-key", f"unknown key {shown(extra)}{suffix}"))
        return out
    if validator == "required" and isinstance(node, Mapping):
        for name in error.validator_value:
            if name not in node.value:
                where = container_name(path)
                extra = " (unless remove: true)" if name == "display_name" else ""
                out.append((node, "required", f"{where} is missing required key {name!r}{extra}"))
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
        return [(node, "type", type_message(field, error.validator_value, node))]
    if validator == "const" and field == "version":
        if (
            isinstance(node, Scalar)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            message = f"unsupported version {cut(node.raw)}: this reconciler reads 'version: 1'"
        else:
            message = f"version must be the number 1, not {a_kind(node)}: write 'version: 1'"
        return [(node, "version", message)]
    if validator == "pattern":
        if error.validator_value == "\\S":
            return [(node, "blank", f"{field} must not be blank")]
        if field == "ref" and isinstance(node, Scalar):
            return [ref_characters(node)]
        return [
            (
                node,
                "pattern",
                f"{field} {shown(error.instance)} is not valid: "
                f"{_FIELD_HELP.get(field, error.validator_value)}",
            )
        ]
    if validator == "maxLength":
        if field in ("message", "ref"):
            return []  # counted in UTF-16 code units, or percent-encoded: link_problems
        return [
            (
                node,
                "too-long",
                f"{field} is {len(error.instance)} characters long; "
                f"the limit is {error.validator_value}",
            )
        ]
    if validator == "minItems":
        return [(node, "empty", f"{field} must name at least one title, or be left out")]
    if validator in ("minimum", "maximum"):
        raw = cut(node.raw) if isinstance(node, Scalar) else error.instance
        return [(node, "range", f"{field} must be between 0 and 100, not {raw}")]
    return [(node, validator, f"{field}: {error.message}")]  # pragma: no cover - all mapped
