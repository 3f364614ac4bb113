"""``reconciler sandbox``: SleekFlow's side, simulated on the local workspace."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.cli.group import cli
from reconciler.cli.options import store_option

_F = TypeVar("_F", bound=Callable[..., Any])


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
@store_option()
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
@store_option()
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
        if control:
            raise click.UsageError("--control is for a sandbox on a loopback address only")
    faults = FaultConfig(
        latency_ms=latency_ms,
        fail_rate=fail_rate,
        throttle_rate=throttle_rate,
        rate_limit=rate_limit,
        drop_before_commit_rate=drop_before_commit_rate,
        drop_after_commit_rate=drop_after_commit_rate,
        reset_rate=reset_rate,
        retry_after=retry_after,
        seed=seed,
    )
    app = SandboxApp(Path(store), api_key=api_key, faults=FaultInjector(faults), control=control)
    # A store that can't be read (a directory, another program's database, a newer schema) is
    # the operator's mistake: say so now, not as a 503 to every client that would retry it.
    backend = app.backend()
    try:
        backend.page_channels(after=0, limit=1)  # opens and checks the store, reads one row
    finally:
        backend.close()
    try:
        server = make_server(app, host, port, verbose=verbose)
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
