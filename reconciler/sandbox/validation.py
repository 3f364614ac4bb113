"""What the sandbox answers bad input with: RFC 9457 problems, request bodies checked against
the OpenAPI component schemas, and the paging query (``limit``, ``cursor``) checked and decoded.

Every check raises an ``ApiProblem``: the handler turns it into an ``application/problem+json``
response with a stable ``type``, so bad input is a 4xx, never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from http import HTTPStatus
from importlib import resources
from typing import Any

from reconciler.backends.local.shapes import encoded
from reconciler.errors import ApiProblem
from reconciler.model import (
    ACCOUNT_RULE,
    CONTROL_RULE,
    MESSAGE_CONTROL_RULE,
    MESSAGE_LIMIT,
    REF_CHARACTERS,
    REF_LIMIT,
    code_point,
    control_characters,
    is_account,
    is_ref_text,
    ref_length,
    utf16_len,
    visible,
)

PROBLEM_BASE = "https://reconciler.dev/problems/"


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API (shipped in the package, served at /openapi.json)."""
    text = resources.files("reconciler").joinpath("schemas/openapi.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def problem_body(problem: ApiProblem, instance: str) -> dict[str, Any]:
    """The problem+json document (RFC 9457) of ``problem`` for the request path ``instance``."""
    data: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.kind,
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance,
    }
    if problem.errors:
        data["errors"] = problem.errors
    return data


def method_not_allowed(method: str, allowed: Iterable[str]) -> ApiProblem:
    """The 405 for ``method`` on a resource that takes only ``allowed`` (its Allow header)."""
    return ApiProblem(
        405,
        "method-not-allowed",
        f"{method} is not allowed here",
        headers={"Allow": ", ".join(sorted(allowed))},
    )


# --- request bodies --------------------------------------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    """The OpenAPI component schema ``name``, the other components beside it."""
    doc = openapi()
    schema = dict(doc["components"]["schemas"][name])
    schema["$defs"] = doc["components"]["schemas"]
    return schema


@cache
def _validator(name: str) -> Any:
    """A validator for the OpenAPI component schema ``name``: what decides, and words each
    error."""
    # Deferred: jsonschema is slow to import, and only a request body needs it (start-up).
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    return Draft202012Validator(_schema(name))


@cache
def _fast_validator(name: str) -> Any:
    """jsonschema-rs over the same schema: some 50 times faster than ``_validator`` on a
    link, but its regular expressions are not Python's (``\\s``, ``$``)."""
    import jsonschema_rs  # deferred, as jsonschema

    return jsonschema_rs.validator_for(_schema(name))


def _known_valid(name: str, data: Any) -> bool:
    """True when ``data`` is valid against the component schema ``name`` by jsonschema-rs and
    is an object of printable text (``str.isprintable``: no control, format or separator
    character but the space) or nulls: where the two validators' patterns agree (the space
    is their only blank, there is no line break for ``$`` to stop before), so its yes is
    ``_validator``'s (tests/sandbox/test_validation.py holds them to each other). False when
    either can't be said: ``_validator`` decides."""
    return (
        isinstance(data, dict)
        and all(key.isprintable() and _printable_or_null(value) for key, value in data.items())
        and bool(_fast_validator(name).is_valid(data))
    )


def _printable_or_null(value: Any) -> bool:
    """Whether ``value`` is None or printable text (``str.isprintable``)."""
    return value is None or (type(value) is str and value.isprintable())


def validate_body(name: str, data: Any) -> None:
    """Check ``data`` against the OpenAPI component schema ``name``; raise a 422 ApiProblem
    listing every field error."""
    errors: list[dict[str, str]] = []
    for error in [] if _known_valid(name, data) else _validator(name).iter_errors(data):
        where = ".".join(str(p) for p in error.absolute_path) or "(body)"
        if error.validator == "additionalProperties":
            extra = sorted(set(data) - set(error.schema.get("properties", {})))
            errors.extend({"field": key, "message": "unknown field"} for key in extra)
            continue
        message = {
            "pattern": "must not be blank"
            if error.validator_value == "\\S"
            else f"may hold only {REF_CHARACTERS} (TikTok's rule)"
            if where == "ref"
            else f"does not match {error.validator_value}",
            "type": f"must be {error.validator_value}",
            "maxLength": f"must be at most {error.validator_value} characters",
            "minLength": "must not be empty",
            "required": error.message,
            "minProperties": "must change at least one field",
        }.get(error.validator, error.message)
        errors.append({"field": where, "message": message})
    if isinstance(data, dict):
        errors.extend(_control_errors(data, reported={error["field"] for error in errors}))
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        length = utf16_len(data["message"])
        if length > MESSAGE_LIMIT and len(data["message"]) <= MESSAGE_LIMIT:
            errors.append(
                {
                    "field": "message",
                    "message": f"is {length} UTF-16 code units; the limit is {MESSAGE_LIMIT}",
                }
            )
    ref = data.get("ref") if isinstance(data, dict) else None
    if isinstance(ref, str) and is_ref_text(ref) and len(ref) <= REF_LIMIT < ref_length(ref):
        errors.append(
            {
                "field": "ref",
                "message": f"is {ref_length(ref):,} characters percent-encoded (each '=' is 3: "
                f"%3D); TikTok's limit is {REF_LIMIT:,}",
            }
        )
    if errors:
        raise ApiProblem(422, "validation", "the request body is not valid", errors=errors)


def _control_errors(data: dict[str, Any], *, reported: set[str]) -> list[dict[str, str]]:
    """A field error for each text field of a body holding a control character, by the
    config's own rule (``model.control_characters``), but the fields already reported."""
    errors = []
    for name in ("title", "display_name", "ref", "message"):
        value = data.get(name)
        if name in reported or not isinstance(value, str):
            continue
        found = control_characters(value, message=name == "message")
        if found:
            index, char = found[0]
            rule = MESSAGE_CONTROL_RULE if name == "message" else CONTROL_RULE
            where = f"{code_point(char)} (character {index + 1})"
            errors.append({"field": name, "message": f"holds {where}: {rule}"})
    return errors


class _NotJson(ValueError):
    """What RFC 8259 JSON is not, though Python's reader takes it (a key given twice, NaN);
    never leaves this module (``parse_json`` answers it with a 400)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object of the body; ``_NotJson`` for a key given twice (which one would count is
    up to each reader: a proxy or a log could see the other)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        twice = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise _NotJson(f"the key {visible(twice)[:80]!r} is given twice")
    return data


def _no_constant(name: str) -> Any:
    """``_NotJson`` for NaN, Infinity and -Infinity: not JSON numbers."""
    raise _NotJson(f"{name} is not a JSON value")


def parse_json(raw: bytes) -> Any:
    """A request body read as strict JSON (RFC 8259); a 400 ``bad-json`` ApiProblem for
    anything else: not UTF-8, not JSON, a key given twice in one object, ``NaN`` or
    ``Infinity``, an integer of 4,300+ digits, nesting too deep, a lone surrogate."""
    try:
        data = json.loads(
            raw.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constant
        )
    except (_NotJson, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiProblem(400, "bad-json", f"the body is not valid JSON: {exc}") from None
    except ValueError:  # an integer longer than Python reads: 4,300 digits
        raise ApiProblem(400, "bad-json", "the body has a number of 4,300+ digits") from None
    except RecursionError:
        raise ApiProblem(400, "bad-json", "the body is nested too deeply") from None
    try:
        # Valid JSON can spell a lone surrogate ("\ud800"): that is not text, and could
        # be neither stored nor sent back as UTF-8.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ApiProblem(400, "bad-json", "the body has a lone surrogate (not Unicode)") from None
    except RecursionError:
        raise ApiProblem(400, "bad-json", "the body is nested too deeply") from None
    return data


# --- pagination ------------------------------------------------------------------------------


#: The key cursors are signed with: new for each server process, so a cursor is good only for
#: the server that issued it (and a restart's clients start their listing again).
_CURSOR_KEY = secrets.token_bytes(32)
#: A cursor as ``encode_cursor`` writes it: ASCII digits, a dot, 22 base64url characters.
_CURSOR = re.compile(r"([1-9][0-9]{0,17})\.([A-Za-z0-9_-]{22})", re.ASCII)


def _cursor_mac(scope: str, last_id: int) -> str:
    """The signature of a cursor of list ``scope`` after ``last_id`` (128 bits, base64url)."""
    digest = hmac.new(_CURSOR_KEY, f"{scope}\n{last_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def encode_cursor(last_id: int, scope: str) -> str:
    """The opaque ``next_cursor`` of a page of the list ``scope`` (its path) whose last row
    has id ``last_id``: the id and a signature of both, so a client can neither forge one nor
    use one list's cursor on another (docs/api.md: a cursor the server didn't issue is 400)."""
    return f"{last_id}.{_cursor_mac(scope, last_id)}"


def decode_cursor(cursor: str, scope: str) -> int:
    """The id a ``cursor`` from ``encode_cursor`` for the list ``scope`` pages after; a 400
    ApiProblem for any other (forged, edited, of another list or another server)."""
    match = _CURSOR.fullmatch(cursor)
    if match is None or not hmac.compare_digest(
        match.group(2), _cursor_mac(scope, int(match.group(1)))
    ):
        raise ApiProblem(400, "bad-cursor", "cursor is not a next_cursor this API returned")
    return int(match.group(1))


def page_params(query: dict[str, list[str]], scope: str) -> tuple[int, int]:
    """``(limit, after)`` of a request's query for the list ``scope`` (its path; the last of
    a repeated parameter wins); a 400 ApiProblem for a limit outside 1-100 or a cursor this
    API didn't give for that list."""
    limits = query.get("limit", ["50"])
    limit = int(limits[-1]) if re.fullmatch(r"[0-9]{1,3}", limits[-1], re.ASCII) else 0
    if not 1 <= limit <= 100:
        raise ApiProblem(
            400,
            "validation",
            "limit must be an integer from 1 to 100",
            errors=[{"field": "limit", "message": "must be an integer from 1 to 100"}],
        )
    cursors = query.get("cursor")
    return limit, decode_cursor(cursors[-1], scope) if cursors else 0


def page(rows: list[tuple[int, bytes]], limit: int, scope: str) -> bytes:
    """The JSON of a page of the list ``scope`` (its path) from up to ``limit + 1`` rows, each
    its id and its JSON (one more than shown says there is a next page, and so a
    ``next_cursor``)."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1][0], scope) if more and rows else None
    data = b",".join([row for _, row in rows])
    return b'{"data":[%b],"next_cursor":%b}' % (
        data,
        b"null" if cursor is None else encoded(cursor),
    )


# --- the history's query -----------------------------------------------------------------------

#: An RFC 3339 time with its offset (``T`` and ``Z`` in either case), as ``since`` takes it.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def history_params(query: dict[str, list[str]]) -> tuple[str | None, datetime | None]:
    """``(account, since)`` of a history request's query (None when absent; the last of a
    repeated parameter wins); a 400 ApiProblem naming each one that isn't valid."""
    errors = []
    account = query["account"][-1] if "account" in query else None
    if account is not None and not is_account(account):
        errors.append({"field": "account", "message": f"must be a TikTok account: {ACCOUNT_RULE}"})
    since = None
    if "since" in query:
        text = query["since"][-1]
        try:
            if not _RFC3339.fullmatch(text):
                raise ValueError(text)
            # fromisoformat takes at most 6 digits of a second; more say nothing a store keeps.
            text = re.sub(r"(\.\d{6})\d+", r"\1", text.upper())
            since = datetime.fromisoformat(text)
        except ValueError:
            errors.append(
                {"field": "since", "message": "must be an RFC 3339 time, as 2026-03-01T00:00:00Z"}
            )
    if errors:
        raise ApiProblem(400, "validation", "the query is not valid", errors=errors)
    return account, since
