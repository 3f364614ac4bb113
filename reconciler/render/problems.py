"""``validate``'s output: the problems of config files, as text lines, JSON, or GitHub
workflow commands."""

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


#: The workflow command of each severity: GitHub shows an error or a warning on the pull
#: request's diff at its line, a notice as a note.
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(problems: Iterable[Problem]) -> str:
    """Every problem as a GitHub workflow command, one a line:
    ``::error file=F,line=L,col=C,title=CODE::message`` (``::warning``, ``::notice``), so a
    job's log puts each one on the pull request at its line, as linters do. Escaped by
    GitHub's rules (``github_data``, ``github_property``): no value can end the command
    early or start another."""
    lines = []
    for problem in problems:
        properties = [("file", problem.path)]
        if problem.line is not None:
            properties.append(("line", str(problem.line)))
            if problem.col is not None:
                properties.append(("col", str(problem.col)))
        properties.append(("title", problem.code))
        joined = ",".join(f"{name}={github_property(value)}" for name, value in properties)
        command = _GITHUB_COMMAND[problem.severity]
        lines.append(f"::{command} {joined}::{github_data(problem.message)}")
    return "".join(line + "\n" for line in lines)


def github_data(text: str) -> str:
    """``text`` as the message of a workflow command: ``%``, CR and LF percent-encoded
    (``%`` first, so an encoding already in the text stays literal)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """``text`` as a property value of a workflow command: as ``github_data``, and ``:`` and
    ``,`` too, which would end the value."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")
