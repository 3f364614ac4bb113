"""The one error tree of reconciler.

Every error a user can meet is a ``ReconcilerError``; its ``str()`` is the message the CLI
prints before exiting 1. Foreign exceptions (``sqlite3.Error``, ``yaml.YAMLError``,
``OSError``, ``httpx.HTTPError``) are mapped at the edge with ``raise X(...) from exc``.

    ReconcilerError
     +-- ConfigError            one or more problems in a config file (carries Problems)
     +-- PlanError              a plan that must not be applied; nothing was changed
     |    +-- UnsafePlan        the plan has error diagnostics
     |    +-- RemovalsNotAllowed  the plan removes something and removals were not allowed
     |    +-- PlanFileError     a saved plan file that can't be read, or isn't a saved plan
     |    +-- UntrustedPlan     a saved plan unsigned, or signed otherwise, while a plan key is set
     |    +-- WrongWorkspace    a saved plan made against another workspace
     |    +-- UnboundPlan       a saved plan that was not made from the config given
     |    +-- ForceRequired     a saved plan made with --force, applied without it
     |    +-- StalePlan         a saved plan whose workspace moved since it was made
     +-- SelectionError         a --channel or --title that matches nothing
     +-- InvalidDate            text shaped like a date or time that names none (2026-02-30)
     +-- QrError                a QR code that can't be made or written
     +-- BackendError           the workspace could not be read or written
     |    +-- StoreError        the local SQLite store is missing, corrupt, foreign or newer
     |    |    +-- StoreDamaged  a row holds a value outside the schema (edited by hand)
     |    +-- IdempotencyMismatch  an idempotency key reused for a different create
     |    +-- TitleTaken        a create or rename to a title the channel already has
     |    +-- WorkspaceChanged  a conditional write: the resource changed since the plan
     +-- SandboxError           the sandbox refuses what it was asked
          +-- UnsafeBind        a bind the sandbox refuses (off loopback without key or flag)
          +-- InvalidInput      an argument of a sandbox call is not valid (``field`` names it)
          +-- ApiProblem        what the sandbox answers a bad request with (RFC 9457)

Refusals are types: callers (the CI commands, tests) branch on ``StalePlan`` or
``RemovalsNotAllowed``, never on a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.model import visible
from reconciler.words import plural


class Severity(StrEnum):
    """How much a finding matters: an error blocks, a warning or info does not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a config file, at a 1-based line and column."""

    path: str
    line: int | None
    col: int | None
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        # A file name is data too (a pull request can name a file anything): a newline or an
        # escape sequence in it must not split the line or colour the terminal.
        path = visible(self.path)
        where = path if self.line is None else f"{path}:{self.line}:{self.col}"
        return f"{where}: {prefix}{self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        """The order problems are reported in: by file, position, then message."""
        return (self.path, self.line or 0, self.col or 0, self.message)

    def to_dict(self) -> dict[str, object]:
        """The problem as plain JSON data (``validate --format json``)."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
        }


class ReconcilerError(Exception):
    """Base of every error reconciler reports to a user."""


class ConfigError(ReconcilerError):
    """A config file has problems; ``problems`` holds every one of them, sorted by position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=Problem.sort_key)
        count = sum(p.severity is Severity.ERROR for p in self.problems)
        lines = [str(p) for p in self.problems]
        if count > 1 or len(lines) > 1:
            lines.append(f"{plural(count, 'error')} found")
        super().__init__("\n".join(lines))

    @property
    def path(self) -> str:
        """The file of the first problem ("" when there is none)."""
        return self.problems[0].path if self.problems else ""

    @property
    def line(self) -> int | None:
        """The line of the first problem, if it has one."""
        return self.problems[0].line if self.problems else None

    @property
    def col(self) -> int | None:
        """The column of the first problem, if it has one."""
        return self.problems[0].col if self.problems else None


class PlanError(ReconcilerError):
    """A plan must not be applied (one of the subclasses says why); nothing was changed."""


class UnsafePlan(PlanError):
    """The plan has error-level diagnostics: it can't be applied at all."""


class RemovalsNotAllowed(PlanError):
    """The plan makes irreversible removals and removals were not allowed."""


class PlanFileError(PlanError):
    """A saved plan file can't be read, or is not a saved plan this reconciler reads."""


class UntrustedPlan(PlanError):
    """A plan key is set and the saved plan is not signed with it, byte for byte."""


class WrongWorkspace(PlanError):
    """A saved plan was made against another workspace than the one it is applied to."""


class ForceRequired(PlanError):
    """A saved plan made with ``--force`` is applied without ``--force``."""


class UnboundPlan(PlanError):
    """A saved plan was not made from the config it is applied with."""


class StalePlan(PlanError):
    """The workspace changed since a saved plan was made: applying it now would not do what
    was reviewed."""


class SelectionError(ReconcilerError):
    """A ``--channel`` or ``--title`` that matches nothing (the message lists what exists)."""


class InvalidDate(ReconcilerError):
    """Text shaped like a date or an ISO 8601 time (``2026-02-30``, ``2026-03-01T25:00``)
    that names no day or time: told apart from a plan file's path, which it is not."""


class QrError(ReconcilerError):
    """A QR code can't be made (a URL too long for any code) or written."""


class BackendError(ReconcilerError):
    """The workspace could not be read or written."""


class StoreError(BackendError):
    """The local SQLite store is unusable: corrupt, foreign, newer, or not writable."""


class StoreDamaged(StoreError):
    """A row of the store holds a value its schema doesn't allow (a BLOB title, a status
    outside its two values): the file was edited by hand or by another program. ``table``,
    ``row`` (its id) and ``column`` say where."""

    def __init__(self, message: str, *, table: str, row: int, column: str) -> None:
        super().__init__(message)
        self.table = table
        self.row = row
        self.column = column


class IdempotencyMismatch(BackendError):
    """An idempotency key was used before for a different request."""


class TitleTaken(BackendError):
    """Another link of the channel already has the title (ignoring case): the workspace
    changed since the plan (another apply ran, or someone edited it in the UI)."""


class WorkspaceChanged(BackendError):
    """A conditional write found the resource changed since the plan saw it (its version is
    not the one the write names); nothing was written. ``current`` and ``given`` are the
    versions, where the backend knows them."""

    def __init__(
        self, message: str, *, current: int | None = None, given: int | None = None
    ) -> None:
        super().__init__(message)
        self.current = current
        self.given = given


class SandboxError(ReconcilerError):
    """The sandbox refuses what it was asked (its library calls, not its HTTP answers)."""


class UnsafeBind(SandboxError):
    """A bind the sandbox refuses: a non-loopback address without ``allow_remote`` or without
    an API key, or the fault control off loopback. ``setting`` names the one at fault
    (``"host"``, ``"api_key"`` or ``"control"``)."""

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class InvalidInput(SandboxError):
    """An argument of a sandbox call is not valid; ``field`` names it (``"account"``,
    ``"display_name"``)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class ApiProblem(SandboxError):
    """An error response of the sandbox: an HTTP ``status``, a stable ``kind`` (the problem
    type's last segment), a ``detail``, field ``errors`` and response ``headers``. The
    handler answers with it as ``application/problem+json`` (``sandbox.validation``)."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
