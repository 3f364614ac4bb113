"""``validate``'s output (``render.problems``): text lines with a verdict, JSON, and GitHub
workflow commands with GitHub's escaping."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import Problem, Severity
from reconciler.render.problems import (
    count_errors,
    github_data,
    github_property,
    render_github,
    render_json,
    render_text,
)

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


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("%0A", "%250A", "%250A"),  # an encoding in the text stays literal
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b", "a:b", "a%3Ab"),
        ("a,b", "a,b", "a%2Cb"),
        ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
        ("C:\\dir,x.yaml", "C:\\dir,x.yaml", "C%3A\\dir%2Cx.yaml"),
        ("é 🐾", "é 🐾", "é 🐾"),
        ("", "", ""),
    ],
)
def test_github_escaping_value_by_value(text: str, data: str, prop: str) -> None:
    assert github_data(text) == data
    assert github_property(text) == prop


def test_github_puts_each_problem_at_its_line_with_its_code_as_title() -> None:
    info = Problem(
        path="w.yaml", line=None, col=None, severity=Severity.INFO, code="c", message="i"
    )
    assert render_github([ERROR, WARNING, info]) == (
        "::error file=w.yaml,line=3,col=14,title=pattern::bad\n"
        "::warning file=w.yaml,line=7,col=9,title=duplicate-ref::ref\n"
        "::notice file=w.yaml,title=c::i\n"
    )
    assert render_github([]) == ""


def test_github_no_value_can_end_the_command_or_start_another() -> None:
    hostile = Problem(
        path="a,line=1:b.yaml",
        line=2,
        col=1,
        severity=Severity.ERROR,
        code="x,y:z",
        message="50% bad\n::add-mask::secret\r",
    )
    assert render_github([hostile]) == (
        "::error file=a%2Cline=1%3Ab.yaml,line=2,col=1,title=x%2Cy%3Az"
        "::50%25 bad%0A::add-mask::secret%0D\n"
    )
