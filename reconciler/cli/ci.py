"""``reconciler ci plan|apply|drift``: the jobs of a CI workflow (``reconciler.ci``)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.cli.group import cli
from reconciler.cli.options import BackendOptions, backend_options, open_workspace, plan_key
from reconciler.model import visible_lines

if TYPE_CHECKING:
    from reconciler.ci import Job, JobResult

#: What each job's one-line verdict says, by exit code, in the job's log.
_VERDICTS = {
    "plan": {0: "no changes", 2: "changes"},
    "apply": {0: "done"},
    "drift": {0: "no drift", 2: "DRIFT"},
}
_FAILED = {"plan": "error", "apply": "NOT applied", "drift": "error"}

configs_argument = click.argument(
    "configs", nargs=-1, required=True, type=click.Path(path_type=str), metavar="PATH..."
)


def out_option(default: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """--out DIR: where the job writes each config's files (DIR/NAME/, NAME from its path)."""
    return click.option(
        "--out",
        default=default,
        show_default=True,
        type=click.Path(file_okay=False, path_type=str),
        metavar="DIR",
        help="Write each config's files in DIR/NAME/ (links/us.yaml: DIR/links-us/).",
    )


@cli.group()
def ci() -> None:
    """What a CI job runs: plan a pull request, apply the reviewed plan, check for drift.

    Each PATH is one config: a file, or a directory whose *.yaml and *.yml files are planned
    together (a team's files, one per brand). Each writes its files per config, appends its
    markdown to the GitHub job summary and sets step outputs when run by GitHub Actions, and
    exits 0 (no changes), 2 (changes or
    drift) or 1 (any error). A config that does not validate is also reported as GitHub
    annotations (::error file=...), at each problem's line.
    """


@ci.command("plan")
@configs_argument
@out_option("reconciler-plan")
@click.option("--commit", metavar="SHA", help="The commit planned (default: git's HEAD).")
@backend_options
def plan_command(
    configs: tuple[str, ...], out: str, commit: str | None, backend_opts: BackendOptions
) -> None:
    """Plan each PATH for a pull request: the saved plan (plan.json), the markdown plan
    (plan.md) and the comment (comment.md, first line a marker per config)."""
    from reconciler import ci as jobs

    _run(
        "plan", configs, backend_opts, lambda c, job: jobs.plan(c, _dir(out, c), job, commit=commit)
    )


@ci.command("apply")
@configs_argument
@click.option(
    "--plans",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    metavar="DIR",
    help="The directory 'ci plan --out' wrote in the pull request's run (its artifact).",
)
@out_option("reconciler-apply")
@click.option(
    "--allow-removals",
    is_flag=True,
    envvar="RECONCILER_ALLOW_REMOVALS",
    help="Allow irreversible removals [env: RECONCILER_ALLOW_REMOVALS].",
)
@backend_options
def apply_command(
    configs: tuple[str, ...],
    plans: str,
    out: str,
    allow_removals: bool,
    backend_opts: BackendOptions,
) -> None:
    """Apply the plan reviewed for each PATH, exactly: as 'reconciler apply --plan PLANFILE
    PATH --auto-approve', refused (nothing changed) if the workspace or PATH moved since.
    The report is apply.md; links.html is the page of PATH's links after the apply (every
    URL with its QR code, those changed in the last 30 days marked), to publish."""
    from reconciler import ci as jobs

    def each(config: str, job: Job) -> JobResult:
        plan_file = Path(plans) / jobs.directory_name(config) / "plan.json"
        return jobs.apply(config, plan_file, _dir(out, config), job, allow_removals=allow_removals)

    _run("apply", configs, backend_opts, each)


@ci.command("drift")
@configs_argument
@out_option("reconciler-drift")
@backend_options
def drift_command(configs: tuple[str, ...], out: str, backend_opts: BackendOptions) -> None:
    """Check that the workspace still matches each PATH: drift.md (the body of a drift
    issue, first line a marker per config); exit 2 on drift, 1 on an error, including a
    declared channel that is disconnected."""
    from reconciler import ci as jobs

    _run("drift", configs, backend_opts, lambda c, job: jobs.drift(c, _dir(out, c), job))


def _dir(out: str, config: str) -> Path:
    from reconciler.ci import directory_name

    return Path(out) / directory_name(config)


def _run(
    kind: str,
    configs: tuple[str, ...],
    backend_opts: BackendOptions,
    each: Callable[[str, Job], JobResult],
) -> None:
    """Run the job ``each`` on every config; report, summarise, set outputs, exit."""
    from reconciler import ci as jobs
    from reconciler.render.problems import render_github

    jobs.directory_names(configs)  # refuses two configs that would share a directory
    run = jobs.GitHubRun.from_environ(os.environ)
    job = jobs.Job(
        workspace=functools.cache(lambda: open_workspace(backend_opts)),
        unreachable=jobs.missing_api_key(backend_opts.kind, os.environ.get("SLEEKFLOW_API_KEY")),
        plan_key=plan_key(),
        concurrency=backend_opts.concurrency,
        run_url=run.url,
    )
    results = []
    for config in dict.fromkeys(configs):
        result = each(config, job)
        click.echo(render_github(result.problems), nl=False)
        click.echo(visible_lines(result.log), nl=False)  # a refusal quotes data as it is
        run.add_to_summary(result.summary)
        verdict = _VERDICTS[kind].get(result.exit, _FAILED[kind])
        click.echo(f"reconciler ci: {kind} of {config}: {verdict}", err=True)
        results.append(result)
    outputs = {
        "has-changes": "true" if any(r.has_changes for r in results) else "false",
        "plan-file": "\n".join(str(r.plan_file.resolve()) for r in results if r.plan_file),
        "comment-file": "\n".join(str(r.report.resolve()) for r in results),
    }
    if kind == "apply":
        pages = (str(r.links_page.resolve()) for r in results if r.links_page)
        outputs["links-page"] = "\n".join(pages)
    run.set_outputs(outputs)
    sys.exit(jobs.combined(r.exit for r in results))
