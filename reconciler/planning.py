"""The plans the commands run against a workspace: a config's (``plan``, ``apply FILE``) and
a saved one re-checked (``apply --plan``). The CLI and ``reconciler ci`` call these, so both
do exactly the same; ``apply.run`` then applies the plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from reconciler.backends.base import Backend
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredState, WorkspaceRef, WorkspaceState
from reconciler.plan import Plan, build

if TYPE_CHECKING:
    from reconciler.plan.saved import SavedPlan

T = TypeVar("T")


class ReadAhead:
    """A workspace opened, and read at once when its reads wait on a network
    (``capabilities.remote``), while the caller does something else (parses the config).

    ``open_backend`` is called here; a ``ReconcilerError`` it raises is kept and raised by
    ``backend`` and ``read`` instead, so the caller's own errors (a config's) still come
    first. A local workspace is read only when asked: its read is CPU work, no faster beside
    the parse."""

    def __init__(self, open_backend: Callable[[], Backend]) -> None:
        self._error: ReconcilerError | None = None
        self._results: dict[str, object] = {}
        self._threads: list[threading.Thread] = []
        try:
            self._backend: Backend | None = open_backend()
        except ReconcilerError as exc:
            self._backend, self._error = None, exc
            return
        if self._backend.capabilities.remote:
            # The state and the workspace's identity at once, each in a daemon thread: a
            # config error ends the command without waiting for them.
            for name in ("read", "workspace"):
                thread = threading.Thread(target=self._run, args=(name,), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _run(self, name: str) -> None:
        """``backend.<name>()``, its result or its error kept for ``read``."""
        try:
            self._results[name] = getattr(self._backend, name)()
        except BaseException as exc:
            self._results[name] = exc

    def during(self, work: Callable[[], T]) -> T:
        """``work()`` while the workspace is read; if it fails, the backend is closed (a read
        under way stops at its next request) and its error raised."""
        try:
            return work()
        except BaseException:
            if self._backend is not None:
                self._backend.close()
            raise

    def backend(self) -> Backend:
        """The backend (the error that refused to open it, raised now)."""
        if self._error is not None:
            raise self._error
        assert self._backend is not None
        return self._backend

    def read(self) -> tuple[WorkspaceState, WorkspaceRef]:
        """The workspace's state and identity, read ahead or now."""
        backend = self.backend()
        if not self._threads:
            return backend.read(), backend.workspace()
        for thread in self._threads:
            thread.join()
        state, ident = self._results["read"], self._results["workspace"]
        for result in (state, ident):
            if isinstance(result, BaseException):
                raise result
        assert isinstance(state, WorkspaceState) and isinstance(ident, WorkspaceRef)
        return state, ident


def plan_against(
    desired: DesiredState,
    backend: Backend | ReadAhead,
    *,
    force: bool = False,
    config_sha256: str | None,
) -> Plan:
    """The plan of ``desired`` (a config whose bytes have ``config_sha256``) against the
    workspace ``backend`` reaches (or a ``ReadAhead`` of it), as it is now: what ``plan`` and
    ``apply FILE`` run."""
    ahead = backend if isinstance(backend, ReadAhead) else ReadAhead(lambda: backend)
    state, workspace = ahead.read()
    return build(
        desired,
        state,
        can_connect=ahead.backend().capabilities.can_connect,
        force=force,
        config_sha256=config_sha256,
        workspace=workspace,
    )


def reviewed(
    recorded: SavedPlan,
    backend: Backend,
    *,
    name: str,
    force: bool = False,
    given: tuple[str, DesiredState] | None = None,
) -> Plan:
    """The saved plan ``recorded`` (read from ``name``) made again against the workspace
    ``backend`` reaches, after every check of ``plan.saved.replan`` (``given``: a config's
    name and desired state, which must be the one the plan recorded): what
    ``apply --plan PLANFILE [CONFIG]`` runs."""
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
        given=given,
    )
