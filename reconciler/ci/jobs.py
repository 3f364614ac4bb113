"""The three CI jobs, on one config each (a file, or a directory of a team's files planned
as one): ``plan`` for a pull request, ``apply`` of the plan reviewed there once it is
merged, and the nightly ``drift`` check.

Each writes its files in the directory it is given and returns a ``JobResult``: the exit
code (``Exit``), the markdown for the job summary, the report to post, and a config's
problems when it does not validate. Refusals are told apart by their type (``errors``),
never by their wording. The workspace is opened only when a job needs it, through
``Job.workspace``; the API key is never read, printed or written here (the backend has it).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path

from reconciler import apply as applier
from reconciler import config as configs
from reconciler import links, page, planning
from reconciler.backends.base import Backend
from reconciler.ci.names import marker
from reconciler.ci.report import APPLY_OUTPUT_LIMIT, cut_middle, failure, fenced
from reconciler.errors import (
    BackendError,
    ConfigError,
    Problem,
    ReconcilerError,
    RemovalsNotAllowed,
)
from reconciler.files import reason, write_output
from reconciler.plan import Plan, saved
from reconciler.render import markdown as render_markdown
from reconciler.render import text as render_text
from reconciler.render.html import render_page
from reconciler.render.markdown import code, size

#: GitHub refuses a comment or an issue body over 65,536 characters; the plan stays under
#: 65,000 and what a job adds (marker, footer) must fit in the rest.
COMMENT_LIMIT = 65_536
#: The diagnostic of a declared channel that is disconnected (an expired token).
DISCONNECTED = "channel-disconnected"


class Exit(IntEnum):
    """A job's exit code, as ``plan --detailed-exitcode`` has them."""

    CLEAN = 0
    FAILED = 1
    CHANGES = 2


@dataclass(frozen=True, slots=True)
class Job:
    """What every job needs besides its config: the workspace (opened on first use), the
    settings of the CI run."""

    #: Opens the workspace (the backend the job's options name).
    workspace: Callable[[], Backend]
    #: Why the workspace can't be reached from here, if it can't (``missing_api_key``).
    unreachable: str | None = None
    #: The key saved plans are signed and checked with (``RECONCILER_PLAN_KEY``).
    plan_key: bytes | None = None
    #: How many changes an apply runs at once (the http backend's concurrency).
    concurrency: int = 8
    #: The URL of the CI run, for a footer.
    run_url: str | None = None
    #: What time it is (the page of links marks the URLs changed in the 30 days before).
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class JobResult:
    """What one job did for one config."""

    config: str
    exit: Exit
    #: Markdown for the job summary.
    summary: str
    #: The report to post: the pull-request comment, the apply report, the drift issue.
    report: Path
    #: Whether there were changes to make (plan, drift) or changes made (apply).
    has_changes: bool = False
    #: The saved plan the job wrote, if it wrote one.
    plan_file: Path | None = None
    #: The config's problems when it did not validate (each at its position).
    problems: tuple[Problem, ...] = ()
    #: What goes to the job's log besides the summary (apply's report, in full).
    log: str = ""
    #: The page of the config's links written after an apply (``links.html``), if the
    #: workspace could be read for it.
    links_page: Path | None = None


def combined(exits: Iterable[Exit]) -> Exit:
    """The exit code of several jobs: FAILED if any failed, else CHANGES if any had
    changes, else CLEAN."""
    found = set(exits)
    return next((e for e in (Exit.FAILED, Exit.CHANGES) if e in found), Exit.CLEAN)


def missing_api_key(backend: str, api_key: str | None) -> str | None:
    """Why the ``backend`` can't work in CI, if it can't: the http backend without a key."""
    if backend == "http" and not api_key:
        return (
            "SLEEKFLOW_API_KEY is empty. Add the API key as a repository secret named "
            "SLEEKFLOW_API_KEY (Settings > Secrets and variables > Actions). Workflows of pull "
            "requests from forks get no secrets, so they cannot plan."
        )
    return None


def plan(config: str, out: Path, job: Job, *, commit: str | None = None) -> JobResult:
    """The pull request's plan of ``config``: in ``out``, ``plan.json`` (the saved plan that
    apply-on-merge applies, signed with the job's plan key), ``plan.md`` and ``comment.md``
    (a marker line, the plan, a footer). CLEAN, CHANGES, or FAILED with the comment saying
    why (an invalid config, an unreachable workspace, a plan that cannot be applied)."""
    the_plan, markdown, problems = _saved_plan(
        config, out, job, headline=f"Could not plan {code(config, in_table=False)}."
    )
    if the_plan is not None:
        markdown = render_markdown.render_plan(the_plan)  # in full even when it has errors
    exit_code = _exit(the_plan)
    _write(out / "plan.md", markdown)
    sha = commit or _git_head()
    verdict = {
        Exit.CLEAN: "Nothing to apply.",
        Exit.CHANGES: "Merging applies exactly this plan (saved with this run as an artifact); "
        "if the workspace changes before, the apply refuses it and changes nothing.",
    }.get(exit_code, "This plan cannot be applied: fix what it says and push again.")
    footer = (
        f"<sub>Plan of {code(config, in_table=False)}"
        + (f" at {code(sha[:12], in_table=False)}" if sha else "")
        + (f" ([run]({job.run_url}))" if job.run_url else "")
        + f". {verdict}</sub>"
    )
    head = [marker("reconciler-plan", config), markdown.rstrip("\n")]
    comment = "\n".join([*head, "", "---", footer]) + "\n"
    if size(comment) > COMMENT_LIMIT:
        comment = "\n".join(head) + "\n"  # the plan is what matters; it fits by itself
    report = out / "comment.md"
    _write(report, comment)
    return JobResult(
        config=config,
        exit=exit_code,
        summary=markdown,
        report=report,
        has_changes=the_plan is not None and bool(the_plan.changes),
        plan_file=out / "plan.json" if the_plan is not None else None,
        problems=problems,
    )


def apply(config: str, plan_file: Path, out: Path, job: Job, *, allow_removals: bool) -> JobResult:
    """Apply the plan reviewed for ``config`` (``plan_file``, saved by ``plan``) exactly as
    ``reconciler apply --plan PLANFILE CONFIG --auto-approve`` does: refused, changing
    nothing, when it is unsigned or signed otherwise while a plan key is set, made against
    another workspace, not made from ``config`` as it is now, stale, or removing something
    without ``allow_removals``. Writes ``apply.md`` in ``out``, and once the plan was
    applied (or had nothing to apply) the page of the config's links (``links_page``);
    CLEAN or FAILED."""
    _make(out)
    report = out / "apply.md"
    problems: tuple[Problem, ...] = ()
    if not plan_file.is_file():
        message = (
            f"No reviewed plan at {plan_file}: nothing was applied. Changes to {config} are "
            "applied from the plan reviewed in their pull request; open one."
        )
        markdown = failure("Nothing was applied.", message)
        return _applied(config, report, markdown, Exit.FAILED, log=message)
    try:
        the_plan, backend = _reviewed(config, plan_file, job)
        applier.check(the_plan, allow_removals=allow_removals)
    except RemovalsNotAllowed as exc:
        hint = (
            "\n\nThe plan removes something and removals are not allowed from CI here: set "
            "the action's `allow-removals` input to true (in the shipped workflow, the "
            "repository variable RECONCILER_ALLOW_REMOVALS), or apply it by hand with "
            "--allow-removals."
        )
        markdown = failure(_NOT_APPLIED, str(exc)) + hint + "\n"
        return _applied(config, report, markdown, Exit.FAILED, log=str(exc))
    except ConfigError as exc:
        problems = tuple(exc.problems)
        markdown = failure(_NOT_APPLIED, str(exc))
        return _applied(config, report, markdown, Exit.FAILED, log=str(exc), problems=problems)
    except ReconcilerError as exc:
        markdown = failure(_NOT_APPLIED, str(exc))
        return _applied(config, report, markdown, Exit.FAILED, log=str(exc))
    shown = render_text.render_plan(the_plan)
    if not the_plan.changes:
        log = shown + "Nothing to apply.\n"
        markdown = "**reconciler** — applied the reviewed plan.\n\n" + fenced(log.rstrip("\n"))
        written = links_page(config, out, backend, job)
        return _applied(config, report, markdown, Exit.CLEAN, log=log, links_page=written)
    result = applier.run(
        the_plan, backend, allow_removals=allow_removals, concurrency=job.concurrency
    )
    log = shown + "\n" + render_text.render_apply(result)
    written = links_page(config, out, backend, job)
    if result.ok:
        markdown = "**reconciler** — applied the reviewed plan.\n\n" + fenced(
            cut_middle(log.rstrip("\n"), APPLY_OUTPUT_LIMIT)
        )
        return _applied(
            config, report, markdown, Exit.CLEAN, log=log, has_changes=True, links_page=written
        )
    markdown = failure(_NOT_APPLIED, log) + "\n"
    return _applied(
        config,
        report,
        markdown,
        Exit.FAILED,
        log=log,
        has_changes=bool(result.done),
        links_page=written,
    )


def links_page(config: str, out: Path, backend: Backend, job: Job) -> Path | None:
    """Write ``links.html`` in ``out``: the page of the links of the channels ``config``
    declares, as the workspace has them now, with those whose URL changed in the last 30
    days marked (``reconciler links CONFIG --format html``). None, and no file, when the
    workspace can't be read for it: the apply's own report says what happened."""
    try:
        state = backend.read()
        rows = links.select(state, configs.load(config)).rows
        built = page.of_workspace(backend, rows, page.window(None, job.clock()), state=state)
    except ReconcilerError:
        return None
    path = out / "links.html"
    _write(path, render_page(built))
    return path


_NOT_APPLIED = "The reviewed plan was not applied (or not in full: see below)."


def drift(config: str, out: Path, job: Job) -> JobResult:
    """The nightly check of ``config``: ``drift.md`` (a marker line and what drifted: the
    body of the drift issue) and ``plan.json`` in ``out``. CLEAN: no drift; CHANGES: the
    workspace no longer matches; FAILED: an error, including a declared channel that is
    disconnected (a plan only warns about one it has nothing to change on, but a nightly
    check must not stay green while messages to it no longer reach SleekFlow)."""
    name = code(config, in_table=False)
    the_plan, markdown, problems = _saved_plan(
        config, out, job, headline=f"Could not check {name} for drift."
    )
    plan_markdown = ""
    exit_code = _exit(the_plan)
    if the_plan is not None:
        plan_markdown = render_markdown.render_plan(the_plan)
        disconnected = sorted(
            {d.channel for d in the_plan.diagnostics if d.code == DISCONNECTED and d.channel}
        )
        if exit_code is Exit.CLEAN and disconnected:
            exit_code = Exit.FAILED
        if exit_code is Exit.CLEAN:
            markdown = f"**reconciler** — no drift: the workspace matches {name}.\n"
        elif exit_code is Exit.CHANGES:
            markdown = (
                f"**Drift:** the workspace no longer matches {name}. Someone changed it "
                "outside this repository (in SleekFlow's UI, or another tool), or a merged "
                "change was not applied. Applying the config as it is would make these "
                "changes; if the workspace is right, change the config instead.\n\n" + plan_markdown
            )
        else:
            which = ", ".join(code(a, in_table=False) for a in disconnected)
            extra = f" Disconnected: {which}." if disconnected else ""
            markdown = f"**reconciler** — ❌ the check of {name} found errors.{extra}\n\n"
            markdown += plan_markdown
    body = marker("reconciler-drift", config) + "\n" + markdown
    if size(body) > COMMENT_LIMIT:
        body = marker("reconciler-drift", config) + "\n" + plan_markdown
    report = out / "drift.md"
    _write(report, body)
    return JobResult(
        config=config,
        exit=exit_code,
        summary=markdown,
        report=report,
        has_changes=exit_code is Exit.CHANGES,
        plan_file=out / "plan.json" if the_plan is not None else None,
        problems=problems,
    )


def _saved_plan(
    config: str, out: Path, job: Job, *, headline: str
) -> tuple[Plan | None, str, tuple[Problem, ...]]:
    """The plan of ``config``, saved as ``out``/plan.json (signed with the job's plan key);
    or, when there is none, no plan file, the markdown saying why under ``headline``, and
    the config's problems if it does not validate."""
    _make(out)
    plan_file = out / "plan.json"
    plan_file.unlink(missing_ok=True)
    try:
        the_plan = _plan(config, job)
    except ConfigError as exc:
        return None, failure(headline, str(exc)), tuple(exc.problems)
    except ReconcilerError as exc:
        return None, failure(headline, str(exc)), ()
    _write(plan_file, saved.dumps(the_plan, key=job.plan_key))
    return the_plan, "", ()


def _plan(config: str, job: Job) -> Plan:
    """The plan of ``config`` (a file, or a directory of them) against the workspace now
    (``reconciler plan CONFIG``)."""
    return planning.plan_against(configs.load_paths([config]), _open(job))


def _reviewed(config: str, plan_file: Path, job: Job) -> tuple[Plan, Backend]:
    """The saved plan, checked (signature, workspace, bound to ``config`` and its files,
    fresh) and made again against the workspace now, as ``apply --plan PLANFILE CONFIG``
    does."""
    recorded = saved.load(plan_file, key=job.plan_key)
    loaded = configs.load_paths([config])
    backend = _open(job)
    the_plan = planning.reviewed(recorded, backend, name=str(plan_file), given=loaded)
    return the_plan, backend


def _open(job: Job) -> Backend:
    if job.unreachable is not None:
        raise BackendError(job.unreachable)
    return job.workspace()


def _exit(the_plan: Plan | None) -> Exit:
    if the_plan is None or not the_plan.applicable:
        return Exit.FAILED
    return Exit.CHANGES if the_plan.changes else Exit.CLEAN


def _applied(
    config: str,
    report: Path,
    markdown: str,
    exit_code: Exit,
    *,
    log: str,
    has_changes: bool = False,
    problems: tuple[Problem, ...] = (),
    links_page: Path | None = None,
) -> JobResult:
    _write(report, markdown)
    return JobResult(
        config=config,
        exit=exit_code,
        summary=markdown,
        report=report,
        has_changes=has_changes,
        problems=problems,
        log=log,
        links_page=links_page,
    )


def _make(directory: Path) -> None:
    """Make the job's ``directory`` (and its parents), or say why it can't be made."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconcilerError(f"cannot write {directory}: {reason(exc)}") from None


def _write(path: Path, text: str) -> None:
    try:
        write_output(path, text.encode("utf-8"))
    except OSError as exc:
        raise ReconcilerError(f"cannot write {path}: {reason(exc)}") from None


def _git_head() -> str | None:
    """The commit checked out here (git's HEAD), if git says."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None
