"""The reliability suite's figures (tests/reliability/figures.py), printed after the run under
"reliability figures": the numbers docs/reliability.md states."""

from __future__ import annotations

from typing import Any

from tests.reliability.figures import FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for section in sorted(FIGURES):
        counts = FIGURES[section]
        shown = ", ".join(f"{name} {counts[name]:,}" for name in sorted(counts))
        terminalreporter.write_line(f"{section}: {shown}")
