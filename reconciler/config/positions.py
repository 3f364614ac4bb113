"""Positions as an editor shows them: 1-based lines and columns, in characters, with lines
broken at CR LF, CR or LF only.

libyaml also starts a line at U+0085, U+2028 and U+2029; ``EditorPositions`` corrects its
marks when a text holds one. ``line_col`` places a point given the text before it (for the
errors found before or outside the YAML parser: a byte that isn't UTF-8, a control character).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

_YAML_ONLY_BREAKS = "\x85\u2028\u2029"
_EDITOR_BREAK = re.compile(r"\r\n|\r|\n")


class EditorPositions:
    """Turns a libyaml mark of one text into the 1-based line and column an editor shows."""

    def __init__(self, text: str) -> None:
        self.line_starts: list[int] | None = None
        if any(char in text for char in _YAML_ONLY_BREAKS):
            self.line_starts = [0] + [m.end() for m in _EDITOR_BREAK.finditer(text)]

    def __call__(self, mark: Any) -> tuple[int, int]:
        """The 1-based ``(line, column)`` of libyaml ``mark``."""
        if self.line_starts is None:
            return mark.line + 1, mark.column + 1
        line = bisect.bisect_right(self.line_starts, mark.index) - 1
        return line + 1, mark.index - self.line_starts[line] + 1


def line_col(before: str) -> tuple[int, int]:
    """The 1-based line and column just after the text ``before``, as an editor counts them:
    in characters, with lines broken at CR LF, CR or LF."""
    starts = [m.end() for m in _EDITOR_BREAK.finditer(before)]
    line_start = starts[-1] if starts else 0
    return len(starts) + 1, len(before) - line_start + 1
