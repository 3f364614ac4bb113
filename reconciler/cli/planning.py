"""``reconciler plan`` and ``reconciler apply``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

from reconciler.backends import reads_remotely
from reconciler.cli.group import cli
from reconciler.cli.options import (
    BackendOptions,
    backend_options,
    echo_data,
    force_option,
    format_option,
    load_config,
    open_workspace,
    paths_argument,
    plan_key,
    refuse_overwriting,
    use_color,
    workspace_opener,
    write_file,
)

if TYPE_CHECKING:
    from reconciler.apply import Outcome
    from reconciler.config import Loaded
    from reconciler.plan import Plan


@cli.command()
@paths_argument(required=True)
@backend_options
@format_option(["text", "markdown", "json"], help="How to print the plan.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="PLANFILE",
    help="Also save the plan, for 'apply --plan PLANFILE'.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on error.",
)
@force_option
def plan(
    paths: tuple[str, ...],
    backend_opts: BackendOptions,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    force: bool,
) -> None:
    """Show what applying the config of PATHs to the workspace would change.

    Each PATH is a config file or a directory of them (its *.yaml and *.yml files,
    recursively, hidden entries skipped): one config, one plan.
    """
    from reconciler import planning

    refuse_overwriting(out, paths)
    # The workspace is read while the config is parsed (its errors still come first).
    remote = reads_remotely(backend_opts.kind)
    ahead = planning.ReadAhead(workspace_opener(backend_opts), remote=remote)
    loaded = ahead.during(lambda: load_config(paths))
    the_plan = planning.plan_against(loaded, ahead, force=force)
    if fmt == "text":
        click.echo(_render_plan(the_plan, fmt), nl=False, color=use_color())
    else:  # JSON and markdown are data: exact to a pipe, escaped on a terminal
        echo_data(_render_plan(the_plan, fmt))
    if out is not None:
        from reconciler.plan import saved

        write_file(out, saved.dumps(the_plan, key=plan_key()))
        if the_plan.applicable:
            click.echo(
                f"Saved the plan to {out}; apply it with: reconciler apply --plan {out}", err=True
            )
        else:
            click.echo(
                f"Saved the plan to {out}, but it has errors and cannot be applied as it is.",
                err=True,
            )
    if not the_plan.applicable:
        sys.exit(1)
    if detailed_exitcode and the_plan.changes:
        sys.exit(2)


def _render_plan(the_plan: Plan, fmt: str) -> str:
    """``the_plan`` in the format asked for (text coloured only on a terminal)."""
    if fmt == "json":
        from reconciler.render import json as render_json

        return render_json.render_plan(the_plan)
    if fmt == "markdown":
        from reconciler.render import markdown

        return markdown.render_plan(the_plan)
    from reconciler.render import text

    return text.render_plan(the_plan, color=use_color())


@cli.command()
@paths_argument(required=False)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="PLANFILE",
    help="Apply a plan saved with 'plan --out', without asking again (it was the review); "
    "refused if the workspace moved, if it was made against another workspace or not from "
    "PATHs as they are now (a file added, removed or changed), or, with RECONCILER_PLAN_KEY "
    "set, if it is not signed with that key.",
)
@backend_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Allow irreversible removals (needed whenever the plan removes anything).",
)
@force_option
@format_option(["text", "json"], help="How to print the result.")
def apply(
    paths: tuple[str, ...],
    plan_file: str | None,
    backend_opts: BackendOptions,
    auto_approve: bool,
    allow_removals: bool,
    force: bool,
    fmt: str,
) -> None:
    """Plan the config of PATHs (or load PLANFILE), ask, apply, and print the resulting URLs.

    With --plan, PATHs are optional: given, they must name the files the plan was made from,
    with the same bytes.
    """
    from reconciler import apply as applier
    from reconciler import planning
    from reconciler.plan import saved as saved_plans
    from reconciler.render import json as render_json
    from reconciler.render import text

    if not paths and plan_file is None:
        raise click.UsageError("give a config PATH, or --plan PLANFILE")
    # The files first: a config or plan file that can't be used is refused before anything
    # is written, and before any error of the workspace's (which a config's plan reads while
    # the config is parsed).
    loaded: Loaded | None = None
    ahead = None
    if plan_file is None:
        remote = reads_remotely(backend_opts.kind)
        ahead = planning.ReadAhead(workspace_opener(backend_opts), remote=remote)
        loaded = ahead.during(lambda: load_config(paths))
    elif paths:
        loaded = load_config(paths)
    recorded = None if plan_file is None else saved_plans.load(plan_file, key=plan_key())
    backend = open_workspace(backend_opts) if ahead is None else ahead.backend()
    if recorded is not None:
        assert plan_file is not None
        the_plan = planning.reviewed(recorded, backend, name=plan_file, force=force, given=loaded)
    else:
        assert loaded is not None
        assert ahead is not None
        the_plan = planning.plan_against(loaded, ahead, force=force)
    if fmt == "text":
        click.echo(text.render_plan(the_plan, color=use_color()), nl=False, color=use_color())
    elif plan_file is None and not auto_approve:
        # JSON goes to stdout, but nobody approves what they haven't seen: the plan to stderr.
        click.echo(text.render_plan(the_plan, color=use_color(err=True)), nl=False, err=True)
    applier.check(the_plan, allow_removals=allow_removals)
    if not the_plan.changes:
        if fmt == "json":
            nothing = applier.ApplyResult(done=(), workspace=the_plan.workspace)
            echo_data(render_json.render_apply(nothing))
        else:
            click.echo("Nothing to apply.")
        return
    # A saved plan was the review (Terraform's apply PLANFILE): it is not asked about again.
    if plan_file is None and not auto_approve and not _confirm(the_plan):
        click.echo("Apply cancelled. Nothing was changed.", err=True)
        sys.exit(1)
    with _progress(len(the_plan.changes)) as on_step:
        result = applier.run(
            the_plan,
            backend,
            allow_removals=allow_removals,
            concurrency=backend_opts.concurrency,
            on_step=on_step,
        )
    if fmt == "json":
        echo_data(render_json.render_apply(result))
    else:
        click.echo("")
        click.echo(text.render_apply(result, color=use_color()), nl=False, color=use_color())
    if not result.ok:
        sys.exit(1)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[Outcome], None] | None]:
    """A progress bar on stderr while the steps run, when stderr is a terminal (a CI log gets
    the report at the end, not a bar redrawn 2,000 times)."""
    if total < 2 or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(
        length=total, label="Applying", file=sys.stderr, show_pos=True, show_eta=True
    ) as bar:
        yield lambda _outcome: bar.update(1)


def _confirm(the_plan: Plan) -> bool:
    """Ask before applying; only an explicit yes continues (Enter and end of input say no)."""
    from reconciler.render.text import confirm_prompt

    try:
        return click.confirm(confirm_prompt(the_plan), default=False, err=True)
    except click.Abort:
        return False
