"""The plans the commands run against a workspace: a config's (``plan``, ``apply FILE``) and
a saved one re-checked (``apply --plan``). The CLI and ``reconciler ci`` call these, so both
do exactly the same; ``apply.run`` then applies the plan.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from reconciler.backends.base import Backend
from reconciler.config import Loaded
from reconciler.model import WorkspaceRef, WorkspaceState
from reconciler.plan import Plan, build

if TYPE_CHECKING:
    from reconciler.plan.saved import SavedPlan

T = TypeVar("T")
#: How long a read ahead may go on after the config it was beside failed.
_STOP_S = 5.0
#: The interpreter's switch interval while a remote read goes on beside the parse (seconds).
#: At the default 5 ms a thread whose answer has come waits up to that long for the parsing
#: thread to let go of the interpreter, on every request: measured, the 10,000-link plan over
#: http at 25 ms took 0.1-0.15 s longer so (docs/benchmarks.md).
_SWITCH_S = 0.0005


class ReadAhead:
    """A workspace opened and read while the caller does something else (parses the config).

    ``remote`` (a backend whose reads wait on a network: ``backends.reads_remotely``): it is
    opened in a thread of its own, its state and identity read there at once. Otherwise it is
    opened here and read only when asked: a local read is CPU work, no faster beside the
    parse, and a thread beside it would only slow both.

    An error opening or reading it is kept, and raised by ``backend`` and ``read``: the
    caller's own errors (a config's) still come first. ``open_backend`` must be callable
    from any thread."""

    def __init__(self, open_backend: Callable[[], Backend], *, remote: bool) -> None:
        self._backend: Backend | BaseException | None = None
        self._state: WorkspaceState | BaseException | None = None
        self._ident: WorkspaceRef | BaseException | None = None
        self._opened = threading.Event()
        # A daemon thread: a config error ends the command without waiting for the read.
        self._thread = threading.Thread(
            target=self._start, args=(open_backend,), name="read-ahead", daemon=True
        )
        if remote:
            self._thread.start()
        else:
            self._backend = _outcome(open_backend)
            self._opened.set()

    def _start(self, open_backend: Callable[[], Backend]) -> None:
        """Open the backend, then read its state and identity at once, side by side, with
        the interpreter switching threads every ``_SWITCH_S`` until both are read."""
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, _SWITCH_S))
        try:
            self._backend = _outcome(open_backend)
            self._opened.set()
            backend = self._backend
            if isinstance(backend, BaseException):
                return

            def identify() -> None:
                self._ident = _outcome(backend.workspace)

            ident = threading.Thread(target=identify, daemon=True)
            ident.start()
            self._state = _outcome(backend.read)
            ident.join()
        finally:
            sys.setswitchinterval(switch)

    def during(self, work: Callable[[], T]) -> T:
        """``work()`` while the workspace is read; if it fails, the read under way is given
        up to ``_STOP_S`` seconds to end, the backend is closed, and the error raised.
        (Closing a client under a request that is still connecting would leave that
        connection open: it is no longer the pool's.)"""
        try:
            return work()
        except BaseException:
            self._opened.wait()
            if not isinstance(self._backend, BaseException | None):
                if self._thread.ident is not None:
                    self._thread.join(timeout=_STOP_S)
                self._backend.close()
            raise

    def backend(self) -> Backend:
        """The backend (the error that refused to open it, raised now)."""
        self._opened.wait()
        return _value(self._backend)

    def read(self) -> tuple[WorkspaceState, WorkspaceRef]:
        """The workspace's state and identity, read ahead or now."""
        backend = self.backend()
        if self._thread.ident is not None:  # started: a remote read
            self._thread.join()
        if self._state is None:
            return backend.read(), backend.workspace()
        return _value(self._state), _value(self._ident)


def _outcome(call: Callable[[], T]) -> T | BaseException:
    """``call()``'s result, or the error it raised."""
    try:
        return call()
    except BaseException as exc:
        return exc


def _value(outcome: T | BaseException | None) -> T:
    """The value of an ``_outcome`` (its error raised)."""
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome is not None
    return outcome


def plan_against(config: Loaded, backend: Backend | ReadAhead, *, force: bool = False) -> Plan:
    """The plan of ``config`` (the desired state of its files, and their digests) against
    the workspace ``backend`` reaches (or a ``ReadAhead`` of it), as it is now: what ``plan``
    and ``apply PATH...`` run."""
    if isinstance(backend, ReadAhead):
        state, workspace = backend.read()
        backend = backend.backend()
    else:
        state, workspace = backend.read(), backend.workspace()
    return build(
        config.desired,
        state,
        can_connect=backend.capabilities.can_connect,
        force=force,
        config_sha256=config.sha256,
        config_files=tuple(config.digests.items()),
        workspace=workspace,
    )


def reviewed(
    recorded: SavedPlan,
    backend: Backend,
    *,
    name: str,
    force: bool = False,
    given: Loaded | None = None,
) -> Plan:
    """The saved plan ``recorded`` (read from ``name``) made again against the workspace
    ``backend`` reaches, after every check of ``plan.saved.replan`` (``given``: the config
    of the PATHs given, whose desired state must be the one the plan recorded, from the
    same files with the same bytes): what ``apply --plan PLANFILE [PATH...]`` runs."""
    # Imported here: a saved plan's checks (and the config writer and drift wording they
    # use) are a tenth of a cold plan's imports, and only apply --plan needs them.
    from reconciler.plan.saved import replan

    return replan(
        recorded,
        backend.read(),
        name=name,
        workspace=backend.workspace(),
        can_connect=backend.capabilities.can_connect,
        force=force,
        given=None if given is None else (given.name, given.desired),
        given_files=None if given is None else given.digests,
    )
