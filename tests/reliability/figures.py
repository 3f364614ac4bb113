"""The figures the reliability suite measures, printed after the run (see conftest.py).

Each test adds what it did with ``record("section", name=count)``: cases tried, faults
injected, processes killed, races run, secrets looked for. docs/reliability.md states them.
"""

from __future__ import annotations

from collections import Counter, defaultdict

FIGURES: defaultdict[str, Counter[str]] = defaultdict(Counter)


def record(section: str, **counts: int) -> None:
    """Add ``counts`` to the figures of ``section``."""
    FIGURES[section].update(counts)
