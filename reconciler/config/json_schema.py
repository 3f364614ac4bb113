"""The workspace JSON Schema and the two validators that judge data against it.

``known_valid`` asks jsonschema-rs (fast, but its errors are not what we report) whether data
is valid; when it can't say yes, ``validator_class`` (Python jsonschema, Draft 2020-12 with
ECMA-262 patterns) finds each error for the config checker to word.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from reconciler import schema_text


@cache
def schema() -> dict[str, Any]:
    """The workspace JSON Schema shipped inside the package."""
    text = schema_text("workspace.schema.json")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema (ECMA-262) pattern so it means in Python what it means there.

    The differences our schema meets: an ECMA ``$`` matches only at the very end, where
    Python's also matches before a final newline (so ``"acme\\n"`` would pass as an account):
    each ``$`` outside a character class becomes ``\\Z``. And ECMA's ``\\s`` is its own set
    of white space (U+0085 and U+001C-U+001F are not in it, U+FEFF is): ``\\s`` and ``\\S``
    outside a class become that set and its complement.
    """
    out: list[str] = []
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
            if char in "sS" and not in_class:
                out[-1] = f"[{'^' if char == 'S' else ''}{_ECMA_SPACE}]"
                continue
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(char)
    return re.compile("".join(out))


#: ECMA-262's WhiteSpace and LineTerminator code points, for a character class.
_ECMA_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, _schema: Any) -> Iterator[Any]:
    """The ``pattern`` keyword with ECMA-262 semantics (see ``_ecma_regex``)."""
    # Python jsonschema (~150 ms to import) loads only to word errors: a valid file never
    # needs it (tests/test_cli_subprocess.py holds validate and plan to that).
    from jsonschema import ValidationError  # type: ignore[import-untyped]

    if validator.is_type(instance, "string") and not _ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def validator_class() -> Any:
    """Draft 2020-12 with ECMA-262 ``pattern``: what an editor using the schema would say."""
    # Deferred like ``_ecma_pattern``'s import: only a file with errors needs it.
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def _fast_validator() -> Any:
    """jsonschema-rs over the same schema: ~85x faster than the Python validator on a
    100,000-link file, but its errors are not what we report. None when it isn't installed."""
    try:  # deferred: ~40 ms to import, which commands that check no config don't pay
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return jsonschema_rs.validator_for(schema())


def known_valid(data: Any) -> bool:
    """True when the fast validator accepts ``data``; False when it rejects it, or can't tell
    (then the Python validator decides, and says why)."""
    validator = _fast_validator()
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(data))
    except Exception:  # a value it can't take (a date, a huge int): let the slow path judge
        return False
