"""What the commands share: the backend options, colour, reading the config, writing files."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reconciler.backends.local import DEFAULT_STORE
from reconciler.errors import ReconcilerError
from reconciler.model import visible, visible_lines

if TYPE_CHECKING:
    from reconciler.backends.base import Backend
    from reconciler.config import Loaded

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """Where the workspace lives, as the options (or their environment variables) say."""

    kind: str
    store: str
    api_url: str | None
    concurrency: int


def store_option(
    help: str = "The local workspace file [env: RECONCILER_STORE].",
) -> Callable[[_F], _F]:
    """--store: the local store's path, from RECONCILER_STORE by default."""
    return click.option(
        "--store",
        envvar="RECONCILER_STORE",
        default=DEFAULT_STORE,
        show_default=True,
        metavar="PATH",
        help=help,
    )


def format_option(choices: list[str], help: str) -> Callable[[_F], _F]:
    """--format: one of ``choices`` (the first is the default), handed over as ``fmt``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


#: --force: let a plan past the bulk-change guard.
force_option = click.option(
    "--force", is_flag=True, help="Let the plan past the bulk-change guard (nothing else)."
)


def backend_options(func: Callable[..., Any]) -> Callable[..., Any]:
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
    wrapper = store_option()(wrapper)
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


def open_workspace(opts: BackendOptions) -> Backend:
    """The backend the options name, closed when the command ends."""
    return workspace_opener(opts)()


def workspace_opener(opts: BackendOptions) -> Callable[[], Backend]:
    """``open_workspace`` as a call that any thread may make (``planning.ReadAhead`` opens
    the workspace while the config is parsed): the command is taken now."""
    ctx = click.get_current_context()

    def open_it() -> Backend:
        from reconciler.backends import open_backend

        backend = open_backend(
            opts.kind,
            store=opts.store,
            api_url=opts.api_url,
            api_key=os.environ.get("SLEEKFLOW_API_KEY") or None,
            concurrency=opts.concurrency,
            on_retry=report_retry,
        )
        ctx.call_on_close(backend.close)
        return backend

    return open_it


def report_retry(what: str, attempt: int, error: str) -> None:
    """Progress for a flaky network: one stderr line per failed attempt that will be retried
    (``what`` may hold a server's ids: shown with ``visible``)."""
    click.echo(f"retrying {visible(what)} (attempt {attempt} failed: {visible(error)})", err=True)


def _for_terminal(data: bytes) -> bytes:
    """UTF-8 data as a terminal may show it (``model.visible_lines``)."""
    return visible_lines(data.decode("utf-8")).encode("utf-8")


def echo_data(content: str) -> None:
    """Data (CSV, JSON, a config) to standard output: its exact UTF-8 bytes to a file or a
    pipe; on a terminal, with every control, bidi or invisible character shown as an escape
    (``model.visible_lines``), so the data can't colour, retitle, link or reorder the screen
    (ESC, OSC 8, a right-to-left override)."""
    if sys.stdout.isatty():
        click.echo(visible_lines(content), nl=False)
    else:
        # click.echo writes bytes to the binary stream underneath, untouched.
        click.echo(content.encode("utf-8"), nl=False)


def use_color(err: bool = False) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""

    if os.environ.get("NO_COLOR", ""):
        return False
    stream = sys.stderr if err else sys.stdout
    return stream.isatty()


def plan_key() -> bytes | None:
    """The key that signs saved plans and that ``apply --plan`` checks them with, from
    ``RECONCILER_PLAN_KEY`` (unset or empty: none; a CI secret that a fork's pull request
    can't read arrives empty). Never printed."""
    key = os.environ.get("RECONCILER_PLAN_KEY", "")
    return key.encode("utf-8", "surrogateescape") if key else None


def load_config(paths: tuple[str, ...]) -> Loaded:
    """The config of PATHs (files, and directories of them): its desired state and each
    file's sha256. Config warnings (duplicate refs) reach the user as the plan's
    diagnostics."""
    from reconciler import config

    return config.load_paths(paths)


def refuse_overwriting(out: str | None, paths: tuple[str, ...]) -> None:
    """Refuse an ``--out`` that names one of the config files of PATHs
    (``config.refuse_overwriting``), before anything is read or written."""
    from reconciler import config

    if out is not None:
        config.refuse_overwriting(out, paths)


def paths_argument(*, required: bool) -> Callable[[_F], _F]:
    """PATH...: config files, and directories of them (their *.yaml and *.yml files)."""
    return click.argument(
        "paths",
        nargs=-1,
        required=required,
        type=click.Path(path_type=str),
        metavar="PATH..." if required else "[PATH]...",
    )


def write_file(path: str, content: str) -> None:
    """Write ``content`` into ``path`` (``files.write_output``: a regular file atomically, a
    symlink's target, a FIFO or device directly, escaped when it is a terminal; a directory
    refused)."""
    from reconciler.files import reason, write_output

    try:
        write_output(Path(path), content.encode("utf-8"), on_terminal=_for_terminal)
    except OSError as exc:
        raise ReconcilerError(f"cannot write {path}: {reason(exc)}") from None


def make_directory(path: str) -> None:
    """Make the directory ``path`` (and its parents) if missing, or say why it can't be."""
    from reconciler.files import reason

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReconcilerError(f"cannot make the directory {path}: {reason(exc)}") from None
