"""What a job tells GitHub Actions when it runs there: the job summary
(``$GITHUB_STEP_SUMMARY``), step outputs (``$GITHUB_OUTPUT``) and the run's URL. Off GitHub
(no such variables) each is a no-op, so the same commands run on a laptop."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ReconcilerError
from reconciler.files import reason


@dataclass(frozen=True, slots=True)
class GitHubRun:
    """The files and the URL GitHub gives a step (None: not on GitHub, or not given)."""

    summary: Path | None = None
    output: Path | None = None
    url: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GitHubRun:
        """The run that ``environ`` (a step's environment) describes."""
        server, repo, run = (
            environ.get(name)
            for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
        )
        summary, output = environ.get("GITHUB_STEP_SUMMARY"), environ.get("GITHUB_OUTPUT")
        return cls(
            summary=Path(summary) if summary else None,
            output=Path(output) if output else None,
            url=f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None,
        )

    def add_to_summary(self, markdown: str) -> None:
        """Append ``markdown`` to the job summary."""
        if self.summary is not None:
            _append(self.summary, markdown.rstrip("\n") + "\n")

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Set the step's outputs; a value of several lines is written between delimiters
        that it can't contain (GitHub's multiline syntax)."""
        if self.output is None:
            return
        text = []
        for name, value in outputs.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                text.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                text.append(f"{name}={value}\n")
        _append(self.output, "".join(text))


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ReconcilerError(f"cannot write {path}: {reason(exc)}") from None
