"""``reconciler sandbox``: SleekFlow's side, simulated on the local workspace.

Options in, one call of the sandbox library (``sandbox.accounts``, ``sandbox.server``), a line
out; what a bind needs and what "connect" means are the library's.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.backends.local import LocalBackend
from reconciler.cli.group import cli
from reconciler.cli.options import store_option
from reconciler.errors import InvalidInput, ReconcilerError, UnsafeBind
from reconciler.model import visible

_F = TypeVar("_F", bound=Callable[..., Any])

#: The command line's name of each argument ``InvalidInput.field`` can name.
_PARAMETERS = {"account": "ACCOUNT", "display_name": "--display-name"}


@cli.group()
def sandbox() -> None:
    """Simulate SleekFlow's side on the local workspace (connect, token expiry)."""
    if os.environ.get("RECONCILER_BACKEND", "local") != "local":
        click.echo(
            "note: sandbox commands act on the local workspace (--store / RECONCILER_STORE), "
            f"not on the {visible(os.environ['RECONCILER_BACKEND'])} backend that "
            "RECONCILER_BACKEND names",
            err=True,
        )


def _bad_parameter(exc: InvalidInput) -> click.BadParameter:
    """The usage error of an ``InvalidInput``, naming the argument as the command line does."""
    return click.BadParameter(str(exc), param_hint=_PARAMETERS.get(exc.field, exc.field))


@sandbox.command("connect")
@click.argument("account")
@click.option(
    "--display-name", metavar="NAME", help="Name shown inside SleekFlow (default: ACCOUNT)."
)
@store_option()
def sandbox_connect(account: str, display_name: str | None, store: str) -> None:
    """Simulate the OAuth connect of ACCOUNT (or reconnect a disconnected one)."""
    # Deferred, as in every command here: the sandbox library costs some 4 ms of start-up
    # (python -X importtime) that no other command should pay.
    from reconciler.sandbox import accounts

    created = not Path(store).exists()
    backend = LocalBackend(store)
    try:
        done = accounts.connect(backend, account, display_name)
    except InvalidInput as exc:
        raise _bad_parameter(exc) from None
    finally:
        backend.close()
    channel = done.channel
    if done.outcome is accounts.Outcome.ALREADY_CONNECTED:
        click.echo(f"{channel.account} is already connected in local workspace {store}")
        return
    click.echo(
        f"{done.outcome} {channel.account} ({channel.display_name}) in local workspace {store}"
    )
    if created:
        click.echo(
            f"Created the local workspace {store} (a demo stand-in for SleekFlow; keep "
            ".reconciler/ out of git).",
            err=True,
        )


@sandbox.command("disconnect")
@click.argument("account")
@store_option()
def sandbox_disconnect(account: str, store: str) -> None:
    """Simulate a token expiry: ACCOUNT shows as disconnected."""
    # Deferred: see sandbox_connect.
    from reconciler.sandbox import accounts

    backend = LocalBackend(store)
    try:
        channel = accounts.disconnect(backend, account)
    except InvalidInput as exc:
        raise _bad_parameter(exc) from None
    finally:
        backend.close()
    click.echo(f"disconnected {channel.account} in local workspace {store}")


def _share_option(name: str, help: str) -> Callable[[_F], _F]:
    """An option for a share of requests, 0 to 1 (0 by default: no such fault)."""
    return click.option(name, type=click.FloatRange(0, 1), default=0.0, help=help)


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port to bind (0 picks a free one; the URL printed says which).",
)
@store_option("The local workspace file to serve [env: RECONCILER_STORE].")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow binding to a non-loopback address (needs SLEEKFLOW_API_KEY set).",
)
@click.option(
    "--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, help="Delay every request."
)
@_share_option("--fail-rate", "Share of requests answered 502/503/504 (nothing done).")
@_share_option("--throttle-rate", "Share of requests answered 429 (nothing done).")
@click.option(
    "--rate-limit",
    type=click.FloatRange(0, 100_000),
    default=0.0,
    help="Requests per second before 429 (0: unlimited).",
)
@click.option(
    "--rate-limit-headers/--no-rate-limit-headers",
    default=True,
    show_default=True,
    help="State --rate-limit in RateLimit-Policy and RateLimit headers on every answer "
    "(the IETF draft); without them a client learns the limit only from 429s.",
)
@_share_option(
    "--drop-before-commit-rate",
    "Share of requests whose connection is closed before anything is done.",
)
@_share_option("--drop-after-commit-rate", "Share of writes that commit, then lose their response.")
@_share_option(
    "--reset-rate",
    "Share of requests whose connection is reset (TCP RST) before anything is done.",
)
@click.option(
    "--retry-after",
    type=click.IntRange(0, 3600),
    default=1,
    show_default=True,
    help="Retry-After seconds sent with injected 429/5xx.",
)
@click.option("--seed", type=int, default=None, help="Seed the faults for a repeatable run.")
@click.option(
    "--control",
    is_flag=True,
    help="Let loopback clients read and change the faults while it runs "
    "(GET/POST /_sandbox/faults; for tests). Loopback only.",
)
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
    rate_limit_headers: bool,
    drop_before_commit_rate: float,
    drop_after_commit_rate: float,
    reset_rate: float,
    retry_after: int,
    seed: int | None,
    control: bool,
    verbose: bool,
) -> None:
    """Serve the local workspace over the HTTP API of docs/api.md (loopback by default).

    If SLEEKFLOW_API_KEY is set, every request must carry it in X-Sleekflow-Api-Key.
    """
    # Deferred: the server stack (http.server, socketserver) is for this command only; every
    # other command's start-up is spared it (tests/test_cli_subprocess.py checks that).
    from reconciler.sandbox.app import SandboxApp
    from reconciler.sandbox.faults import FaultConfig, FaultInjector
    from reconciler.sandbox.server import make_server

    api_key = os.environ.get("SLEEKFLOW_API_KEY") or None
    try:
        faults = FaultConfig(
            latency_ms=latency_ms,
            fail_rate=fail_rate,
            throttle_rate=throttle_rate,
            rate_limit=rate_limit,
            rate_limit_headers=rate_limit_headers,
            drop_before_commit_rate=drop_before_commit_rate,
            drop_after_commit_rate=drop_after_commit_rate,
            reset_rate=reset_rate,
            retry_after=retry_after,
            seed=seed,
        )
    except ValueError as exc:  # NaN passes click's ranges (it compares false to anything)
        raise click.UsageError(str(exc)) from None
    app = SandboxApp(Path(store), api_key=api_key, faults=FaultInjector(faults), control=control)
    try:
        server = make_server(app, host, port, allow_remote=allow_remote, verbose=verbose)
    except UnsafeBind as exc:
        if exc.setting == "host":
            raise click.BadParameter(str(exc), param_hint="--host") from None
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise ReconcilerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    auth = "API key required" if api_key else "no API key required"
    extra = " with injected faults" if faults.active else ""
    extra += "; faults controlled at /_sandbox/faults" if control else ""
    try:
        # Inside the try: a client may stop the server as soon as it reads this line.
        click.echo(
            f"Serving local workspace {store} at {server.url} ({auth}{extra}; Ctrl-C to stop)"
        )
        sys.stdout.flush()
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)
    finally:
        server.server_close()
