"""``validate``'s output (``render.problems``): text lines with a verdict, and JSON."""

from __future__ import annotations

import json

from reconciler.errors import Problem, Severity
from reconciler.render.problems import count_errors, render_json, render_text

ERROR = Problem(
    path="w.yaml", line=3, col=14, severity=Severity.ERROR, code="pattern", message="bad"
)
WARNING = Problem(
    path="w.yaml", line=7, col=9, severity=Severity.WARNING, code="duplicate-ref", message="ref"
)


def test_text_lists_each_problem_then_the_verdict() -> None:
    assert render_text("w.yaml", [ERROR, WARNING]) == (
        "w.yaml:3:14: bad\nw.yaml:7:9: warning: ref\n1 error found\n"
    )
    assert (
        render_text("w.yaml", [WARNING]) == "w.yaml:7:9: warning: ref\nw.yaml: valid (1 warning)\n"
    )
    assert render_text("w.yaml", []) == "w.yaml: valid\n"


def test_json_is_a_list_in_the_order_given_with_keys_in_to_dict_order() -> None:
    text = render_json([WARNING, ERROR])
    assert text.endswith("]\n")
    data = json.loads(text)
    assert [p["line"] for p in data] == [7, 3]
    assert list(data[0]) == ["path", "line", "col", "severity", "code", "message"]
    assert render_json([]) == "[]\n"


def test_only_errors_count() -> None:
    assert count_errors([ERROR, WARNING, ERROR]) == 2
    assert count_errors([WARNING]) == 0
