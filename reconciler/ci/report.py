"""The markdown a CI job writes besides the plan itself: an error with the output that
explains it, a code block nothing can close, a long report cut in the middle."""

from __future__ import annotations

import re

from reconciler.render.markdown import size

#: At most this many characters of an error's output go into a comment...
ERROR_OUTPUT_LIMIT = 20_000
#: ...and of apply's report (its full text is in the job's log).
APPLY_OUTPUT_LIMIT = 60_000


def failure(headline: str, output: str) -> str:
    """Markdown for an error: a headline and the output that explains it in a code block."""
    output = output.strip("\n") or "(no output)"
    if len(output) > ERROR_OUTPUT_LIMIT:
        half = ERROR_OUTPUT_LIMIT // 2
        left_out = len(output) - 2 * half
        output = f"{output[:half]}\n[... {left_out} characters left out ...]\n{output[-half:]}"
    return f"**reconciler** — ❌ {headline}\n\n{fenced(output)}"


def fenced(text: str) -> str:
    """``text`` in a fenced code block that no line of it can close."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}text\n{text}\n{fence}\n"


def cut_middle(text: str, limit: int) -> str:
    """``text`` with whole lines left out of its middle so that it has at most about ``limit``
    UTF-16 code units: a third from the start, the rest from the end (where apply prints the
    URLs to replace)."""
    if size(text) <= limit:
        return text
    lines = text.split("\n")
    head: list[str] = []
    used = 0
    for line in lines:
        if used + size(line) + 1 > limit // 3:
            break
        head.append(line)
        used += size(line) + 1
    tail: list[str] = []
    for line in reversed(lines[len(head) :]):
        if used + size(line) + 1 > limit:
            break
        tail.append(line)
        used += size(line) + 1
    tail.reverse()
    left_out = len(lines) - len(head) - len(tail)
    return "\n".join([*head, f"[... {left_out} lines left out ...]", *tail])
