"""``validate``'s output: the problems of config files, as text lines or as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable

from reconciler.errors import Problem, Severity
from reconciler.words import plural


def render_text(path: str, problems: list[Problem]) -> str:
    """One file's problems, ``FILE:LINE:COL: message`` each, then its verdict: "N errors
    found", or "FILE: valid" (with its count of warnings)."""
    lines = [str(problem) for problem in problems]
    errors = count_errors(problems)
    if errors:
        lines.append(f"{plural(errors, 'error')} found")
    else:
        warnings = len(problems)
        suffix = f" ({plural(warnings, 'warning')})" if warnings else ""
        lines.append(f"{path}: valid{suffix}")
    return "\n".join(lines) + "\n"


def render_json(problems: Iterable[Problem]) -> str:
    """Every problem as a JSON list of objects (``Problem.to_dict``)."""
    # Not render.json.dumps: validate's JSON keeps to_dict's key order (path, line, col...)
    # and has since it was written; sorting the keys would change every byte of its output.
    return json.dumps([p.to_dict() for p in problems], indent=2, ensure_ascii=False) + "\n"


def count_errors(problems: Iterable[Problem]) -> int:
    """How many of ``problems`` are errors (warnings and infos are not)."""
    return sum(problem.severity is Severity.ERROR for problem in problems)
