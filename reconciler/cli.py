"""The command line: parse options, call the library, render, choose the exit code.

Nothing here decides anything about a plan; every error the library raises is a
``ReconcilerError`` whose message is printed as is, with exit code 1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from dataclasses import dataclass
from typing import Any

import click

from reconciler import __version__
from reconciler.backends.local import DEFAULT_STORE
from reconciler.errors import ConfigError, ReconcilerError, Severity


class ReconcilerGroup(click.Group):
    """Turns every error into a message and exit 1; ``--debug`` lets the traceback through."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except ReconcilerError as exc:
            if _debug(ctx):
                raise
            click.echo(str(exc), err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if _debug(ctx):
                raise
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if _debug(ctx):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in reconciler; run again with --debug for the traceback.",
                err=True,
            )
            ctx.exit(1)


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug"))


@click.group(cls=ReconcilerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors (for bug reports).")
def cli(debug: bool) -> None:
    """Config-as-code for SleekFlow TikTok Business Messaging channels and message links."""


@cli.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: FILE:LINE:COL lines; json: a list of problems.",
)
@click.pass_context
def validate(ctx: click.Context, file: str, fmt: str) -> None:
    """Check FILE against the schema and the rules of the config format.

    Exits 0 when FILE is valid (warnings allowed), 1 when it has errors or can't be read.
    """
    from reconciler import config

    try:
        text = config.read_text(file)
    except ConfigError as exc:
        if _debug(ctx):
            raise
        problems = exc.problems
    else:
        _, problems = config.check(text, file)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(str(problem), err=bool(errors))
        if errors:
            n = len(errors)
            click.echo(f"{n} error{'s' if n != 1 else ''} found", err=True)
        else:
            warnings = len(problems)
            suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            click.echo(f"{file}: valid{suffix}")
    sys.exit(1 if errors else 0)


def main() -> None:
    """Entry point of the ``reconciler`` command."""
    cli(prog_name="reconciler")


# --- options shared by every command that reads the workspace -------------------------------


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """Where the workspace lives, as the options (or their environment variables) say."""

    kind: str
    store: str
    api_url: str | None
    concurrency: int


def backend_options(func: Any) -> Any:
    """--backend, --store, --api-url, --concurrency (each with its environment variable),
    handed to the command as one ``backend_opts: BackendOptions``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["backend_opts"] = BackendOptions(
            kind=kwargs.pop("backend_kind"),
            store=kwargs.pop("store"),
            api_url=kwargs.pop("api_url"),
            concurrency=kwargs.pop("concurrency"),
        )
        return func(*args, **kwargs)

    wrapper = click.option(
        "--concurrency",
        envvar="RECONCILER_CONCURRENCY",
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        help="How many requests the http backend runs at once [env: RECONCILER_CONCURRENCY].",
    )(wrapper)
    wrapper = click.option(
        "--api-url",
        envvar="SLEEKFLOW_API_URL",
        metavar="URL",
        help="SleekFlow API base URL for --backend http [env: SLEEKFLOW_API_URL]. "
        "The API key is read from SLEEKFLOW_API_KEY only.",
    )(wrapper)
    wrapper = click.option(
        "--store",
        envvar="RECONCILER_STORE",
        default=DEFAULT_STORE,
        show_default=True,
        metavar="PATH",
        help="The local workspace file [env: RECONCILER_STORE].",
    )(wrapper)
    wrapper = click.option(
        "--backend",
        "backend_kind",
        envvar="RECONCILER_BACKEND",
        type=click.Choice(["local", "http"]),
        default="local",
        show_default=True,
        help="Where the workspace lives [env: RECONCILER_BACKEND].",
    )(wrapper)
    return wrapper


def _open(opts: BackendOptions) -> Any:
    """The backend the options name, closed when the command ends."""
    import os

    from reconciler.backends import open_backend

    backend = open_backend(
        opts.kind,
        store=opts.store,
        api_url=opts.api_url,
        api_key=os.environ.get("SLEEKFLOW_API_KEY") or None,
        concurrency=opts.concurrency,
        on_retry=_report_retry,
    )
    click.get_current_context().call_on_close(backend.close)
    return backend


def _report_retry(what: str, attempt: int, error: str) -> None:
    """Progress for a flaky network: one stderr line per failed attempt that will be retried."""
    click.echo(f"retrying {what} (attempt {attempt} failed: {error})", err=True)


def use_color(err: bool = False) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    import os

    if os.environ.get("NO_COLOR", ""):
        return False
    stream = sys.stderr if err else sys.stdout
    return stream.isatty()


def _sha256(path: str) -> str:
    """The sha256 of the bytes of the file at ``path``; an unreadable file is a ConfigError."""
    import hashlib
    from pathlib import Path

    from reconciler.errors import Problem

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            [Problem(path, None, None, Severity.ERROR, "file", f"cannot read: {reason}")]
        ) from None


def _load_config(file: str) -> tuple[Any, str]:
    """The desired state of FILE and the sha256 of its bytes. Config warnings (duplicate
    refs) reach the user as the plan's diagnostics."""
    from reconciler import config

    desired = config.load(file)
    return desired, _sha256(file)


# --- plan -------------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(path_type=str))
@backend_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="How to print the plan.",
)
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
@click.option(
    "--force", is_flag=True, help="Let the plan past the bulk-change guard (nothing else)."
)
def plan(
    file: str,
    backend_opts: BackendOptions,
    fmt: str,
    out: str | None,
    detailed_exitcode: bool,
    force: bool,
) -> None:
    """Show what applying FILE to the workspace would change."""
    from reconciler import plan as planner
    from reconciler import planfile
    from reconciler.render import json as render_json

    desired, sha = _load_config(file)
    backend = _open(backend_opts)
    actual = backend.read()
    the_plan = planner.build(
        desired,
        actual,
        can_connect=backend.capabilities.can_connect,
        force=force,
        config_sha256=sha,
    )
    click.echo(_render_plan(the_plan, fmt), nl=False, color=use_color())
    if out is not None:
        _write(out, render_json.dumps(planfile.to_dict(the_plan, desired, actual)))
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


def _render_plan(the_plan: Any, fmt: str) -> str:
    """``the_plan`` in the format asked for (text coloured only on a terminal)."""
    if fmt == "json":
        from reconciler.render import json as render_json

        return render_json.render_plan(the_plan)
    if fmt == "markdown":
        from reconciler.render import markdown

        return markdown.render_plan(the_plan)
    from reconciler.render import text

    return text.render_plan(the_plan, color=use_color())


def _write(path: str, content: str) -> None:
    """Write ``content`` to ``path`` atomically (a reader never sees half a file), with the
    permissions a new file gets from the umask."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise ReconcilerError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# --- apply ------------------------------------------------------------------------------------


@cli.command()
@click.argument("file", required=False, type=click.Path(path_type=str))
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="PLANFILE",
    help="Apply a plan saved with 'plan --out' (refused if stale).",
)
@backend_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--allow-removals",
    is_flag=True,
    help="Allow irreversible removals (needed whenever the plan removes anything).",
)
@click.option(
    "--force", is_flag=True, help="Let the plan past the bulk-change guard (nothing else)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the result.",
)
def apply(
    file: str | None,
    plan_file: str | None,
    backend_opts: BackendOptions,
    auto_approve: bool,
    allow_removals: bool,
    force: bool,
    fmt: str,
) -> None:
    """Plan FILE (or load PLANFILE), ask, apply, and print the resulting URLs."""
    from reconciler import apply as applier
    from reconciler import plan as planner
    from reconciler import planfile
    from reconciler.errors import PlanError
    from reconciler.render import json as render_json
    from reconciler.render import text

    if file is None and plan_file is None:
        raise click.UsageError("give a config FILE, or --plan PLANFILE")
    backend = _open(backend_opts)
    if plan_file is not None:
        saved = planfile.load(plan_file)
        if file is not None and saved.config_sha256 != _sha256(file):
            raise PlanError(
                f"{plan_file} was not made from {file} as it is now (sha256 differs); "
                "nothing was changed. Plan again."
            )
        actual = backend.read()
        planfile.check_fresh(saved, actual, name=plan_file)
        the_plan = planner.build(
            saved.desired,
            actual,
            can_connect=backend.capabilities.can_connect,
            force=force or saved.forced,
            config_sha256=saved.config_sha256,
        )
        if [c.to_dict() for c in the_plan.changes] != saved.changes:
            raise PlanError(f"{plan_file}: the plan no longer matches the workspace; plan again")
    else:
        assert file is not None
        desired, sha = _load_config(file)
        actual = backend.read()
        the_plan = planner.build(
            desired,
            actual,
            can_connect=backend.capabilities.can_connect,
            force=force,
            config_sha256=sha,
        )
    if fmt == "text":
        click.echo(text.render_plan(the_plan, color=use_color()), nl=False, color=use_color())
    applier.check(the_plan, allow_removals=allow_removals)
    if not the_plan.changes:
        if fmt == "json":
            click.echo(render_json.render_apply(applier.ApplyResult(())), nl=False)
        else:
            click.echo("Nothing to apply.")
        return
    if not auto_approve and not _confirm(the_plan):
        click.echo("Apply cancelled. Nothing was changed.", err=True)
        sys.exit(1)
    concurrency = backend_opts.concurrency if backend.capabilities.parallel_writes else 1
    result = applier.run(the_plan, backend, allow_removals=allow_removals, concurrency=concurrency)
    if fmt == "json":
        click.echo(render_json.render_apply(result), nl=False)
    else:
        click.echo("")
        click.echo(text.render_apply(result, color=use_color()), nl=False, color=use_color())
    if not result.ok:
        sys.exit(1)


def _confirm(the_plan: Any) -> bool:
    """Ask before applying; only an explicit yes continues (Enter and end of input say no)."""
    n = len(the_plan.changes)
    warnings = []
    if the_plan.regenerations:
        k = len(the_plan.regenerations)
        warnings.append(f"{k} link{'s get' if k != 1 else ' gets'} a NEW URL")
    if the_plan.removals:
        k = len(the_plan.removals)
        warnings.append(f"{k} removal{'s' if k != 1 else ''} cannot be undone")
    extra = f" {'; '.join(warnings)}." if warnings else ""
    try:
        return click.confirm(
            f"Apply {n} change{'s' if n != 1 else ''}?{extra} Only 'y' continues",
            default=False,
            err=True,
        )
    except click.Abort:
        return False


# --- export, status -----------------------------------------------------------------------------


@cli.command()
@backend_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
def export(backend_opts: BackendOptions, out: str | None) -> None:
    """Print the workspace as a config file; 'plan' of it shows no change."""
    from reconciler.export import export_config

    backend = _open(backend_opts)
    content = export_config(backend.read())
    if out is None:
        click.echo(content, nl=False)
    else:
        _write(out, content)
        click.echo(f"Wrote {out}", err=True)


@cli.command()
@backend_options
def status(backend_opts: BackendOptions) -> None:
    """Each channel, its connection status and link count, with the fix for disconnected ones."""
    from reconciler.render import text

    backend = _open(backend_opts)
    click.echo(text.render_status(backend.read(), color=use_color()), nl=False, color=use_color())


# --- sandbox ------------------------------------------------------------------------------------


@cli.group()
def sandbox() -> None:
    """Simulate SleekFlow's side on the local workspace (connect, token expiry)."""


def _check_account(account: str) -> None:
    """A BadParameter unless ``account`` is a TikTok username (the config's rule)."""
    import re

    from reconciler.model import ACCOUNT_PATTERN

    # fullmatch: the pattern's "$" would also accept a final newline.
    if not re.fullmatch(ACCOUNT_PATTERN, account):
        raise click.BadParameter(
            f"{account!r} is not a TikTok username: "
            "2-24 letters, digits, '_' or '.', not ending in '.'",
            param_hint="ACCOUNT",
        )


@sandbox.command("connect")
@click.argument("account")
@click.option(
    "--display-name", metavar="NAME", help="Name shown inside SleekFlow (default: ACCOUNT)."
)
@click.option(
    "--store",
    envvar="RECONCILER_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    metavar="PATH",
    help="The local workspace file [env: RECONCILER_STORE].",
)
def sandbox_connect(account: str, display_name: str | None, store: str) -> None:
    """Simulate the OAuth connect of ACCOUNT (or reconnect a disconnected one)."""
    from reconciler.backends.local import LocalBackend

    _check_account(account)
    if display_name is not None and (not display_name.strip() or len(display_name) > 100):
        raise click.BadParameter("must be 1-100 characters, not blank", param_hint="--display-name")
    from reconciler.model import ChannelStatus

    backend = LocalBackend(store)
    try:
        existing = backend.read().channel(account)
        if existing is not None and existing.status is ChannelStatus.CONNECTED:
            # Like the OAuth flow on a connected account: nothing to do, and not a failure,
            # so a demo script can run twice.
            click.echo(f"{existing.account} is already connected in local workspace {store}")
            return
        channel = backend.connect_channel(account, display_name)
    finally:
        backend.close()
    verb = "reconnected" if existing is not None else "connected"
    click.echo(f"{verb} {channel.account} ({channel.display_name}) in local workspace {store}")


@sandbox.command("disconnect")
@click.argument("account")
@click.option(
    "--store",
    envvar="RECONCILER_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    metavar="PATH",
    help="The local workspace file [env: RECONCILER_STORE].",
)
def sandbox_disconnect(account: str, store: str) -> None:
    """Simulate a token expiry: ACCOUNT shows as disconnected."""
    from reconciler.backends.local import LocalBackend
    from reconciler.model import ChannelStatus

    _check_account(account)
    backend = LocalBackend(store)
    try:
        channel = backend.set_status(account, ChannelStatus.DISCONNECTED)
    finally:
        backend.close()
    click.echo(f"disconnected {channel.account} in local workspace {store}")


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port to bind (0 picks a free one; the URL printed says which).",
)
@click.option(
    "--store",
    envvar="RECONCILER_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    metavar="PATH",
    help="The local workspace file to serve [env: RECONCILER_STORE].",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow binding to a non-loopback address (needs SLEEKFLOW_API_KEY set).",
)
@click.option(
    "--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, help="Delay every request."
)
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests answered 502/503/504 (nothing done).",
)
@click.option(
    "--throttle-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests answered 429 (nothing done).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(0, 100_000),
    default=0.0,
    help="Requests per second before 429 (0: unlimited).",
)
@click.option(
    "--drop-before-commit-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of requests whose connection is closed before anything is done.",
)
@click.option(
    "--drop-after-commit-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of writes that commit, then lose their response.",
)
@click.option(
    "--retry-after",
    type=click.IntRange(0, 3600),
    default=1,
    show_default=True,
    help="Retry-After seconds sent with injected 429/5xx.",
)
@click.option("--seed", type=int, default=None, help="Seed the faults for a repeatable run.")
@click.option("--verbose", is_flag=True, help="Log every request to stderr.")
def sandbox_serve(
    host: str,
    port: int,
    store: str,
    allow_remote: bool,
    latency_ms: float,
    fail_rate: float,
    throttle_rate: float,
    rate_limit: float,
    drop_before_commit_rate: float,
    drop_after_commit_rate: float,
    retry_after: int,
    seed: int | None,
    verbose: bool,
) -> None:
    """Serve the local workspace over the HTTP API of docs/api.md (loopback by default).

    If SLEEKFLOW_API_KEY is set, every request must carry it in X-Sleekflow-Api-Key.
    """
    import os
    import signal
    from pathlib import Path

    from reconciler.errors import ReconcilerError
    from reconciler.sandbox.faults import FaultConfig, FaultInjector
    from reconciler.sandbox.server import SandboxApp, is_loopback, make_server

    api_key = os.environ.get("SLEEKFLOW_API_KEY") or None
    if not is_loopback(host):
        if not allow_remote:
            raise click.BadParameter(
                f"{host} is not a loopback address: pass --allow-remote to expose the sandbox",
                param_hint="--host",
            )
        if api_key is None:
            raise click.UsageError("--allow-remote needs an API key: set SLEEKFLOW_API_KEY")
    faults = FaultConfig(
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        throttle_rate=throttle_rate,
        rate_limit=rate_limit,
        drop_before_commit_rate=drop_before_commit_rate,
        drop_after_commit_rate=drop_after_commit_rate,
        retry_after=retry_after,
        seed=seed,
    )
    app = SandboxApp(Path(store), api_key=api_key, faults=FaultInjector(faults))
    try:
        server = make_server(app, host, port, verbose=verbose)
    except OSError as exc:
        raise ReconcilerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    auth = "API key required" if api_key else "no API key required"
    extra = " with injected faults" if faults.active else ""
    click.echo(f"Serving local workspace {store} at {server.url} ({auth}{extra}; Ctrl-C to stop)")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        server.server_close()
