"""One config text -> its desired state and every problem: the fast path when it can, else
the positioned read and every check (``checks``)."""

from __future__ import annotations

from reconciler.config.checks import tree_problems
from reconciler.config.desired import desired_state
from reconciler.config.fast import fast_desired
from reconciler.config.yaml_nodes import Mapping
from reconciler.config.yaml_strict import read
from reconciler.errors import Problem, Severity
from reconciler.model import DesiredState


def check(text: str, path: str) -> tuple[DesiredState | None, list[Problem]]:
    """Validate config ``text`` (named ``path`` in messages).

    Returns the desired state (None when there is any error) and all problems, errors and
    warnings, sorted by position.
    """
    fast = fast_desired(text)
    if fast is not None:
        return fast, []
    return check_full(text, path)


def check_full(text: str, path: str) -> tuple[DesiredState | None, list[Problem]]:
    """``check`` without the fast path: every node read with its position."""
    root, yaml_problems = read(text)
    problems = [
        Problem(
            path=path,
            line=p.line,
            col=p.col,
            severity=Severity.ERROR,
            code=p.code,
            message=p.message,
        )
        for p in yaml_problems
    ]
    if root is None:
        if not problems:
            problems.append(
                Problem(
                    path=path,
                    line=1,
                    col=1,
                    severity=Severity.ERROR,
                    code="empty",
                    message="the file is empty: it needs 'version: 1' and 'channels'",
                )
            )
        return None, sorted(problems, key=Problem.sort_key)
    problems.extend(tree_problems(path, root))
    problems.sort(key=Problem.sort_key)
    if not isinstance(root, Mapping) or any(p.severity is Severity.ERROR for p in problems):
        return None, problems  # a top level that isn't a mapping is one of the errors
    return desired_state(root.value), problems
