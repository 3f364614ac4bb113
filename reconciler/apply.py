"""Plan x Backend -> result: the guards, the order, and a report of what was and wasn't done.

Safety lives here, not in the CLI: a plan with an error diagnostic is refused whole, and so is
one with an irreversible removal unless removals are allowed. Steps run in an order that
never leaves fewer links than needed if it stops half-way: connects and renames, then creates,
then edits, and removals last. The first failure stops the run; running the same config again
converges, because every step is one transaction (local) or one idempotent request (http).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler.backends.base import Backend
from reconciler.errors import ReconcilerError, RemovalsNotAllowed, UnsafePlan, WorkspaceChanged
from reconciler.links import where_shared
from reconciler.model import WorkspaceRef, fold, visible
from reconciler.plan import Action, Change, ChannelValues, LinkValues, Plan, Resource
from reconciler.words import plural

_ORDER = {
    (Action.CONNECT, Resource.CHANNEL): 0,
    (Action.RENAME, Resource.CHANNEL): 1,
    (Action.CREATE, Resource.LINK): 2,
    (Action.UPDATE, Resource.LINK): 3,
    (Action.REGENERATE, Resource.LINK): 4,
    (Action.REMOVE, Resource.LINK): 5,
    (Action.REMOVE, Resource.CHANNEL): 6,
}


@dataclass(frozen=True, slots=True)
class UrlChange:
    """A regenerated link: the old URL keeps working with the old message."""

    channel: str
    title: str
    where: str
    old_url: str
    new_url: str

    def to_dict(self) -> dict[str, Any]:
        """The change as it appears in the JSON apply result's ``url_changes``."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One change that was applied, with the URL the workspace gave the link (None for a
    channel change or a removal)."""

    change: Change
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What a run did: the outcomes in plan order, and on a failure the change that failed,
    its error and the changes that were not applied."""

    done: tuple[Outcome, ...]
    not_done: tuple[Change, ...] = ()
    failed: Change | None = None
    error: str | None = None
    #: The failure was a conditional write finding its resource changed since the plan saw
    #: it: another apply (or someone in SleekFlow) got there first.
    workspace_changed: bool = False
    #: The workspace the run applied to (the plan's).
    workspace: WorkspaceRef | None = None

    @property
    def ok(self) -> bool:
        """Whether every change was applied."""
        return self.failed is None

    @property
    def url_changes(self) -> tuple[UrlChange, ...]:
        """The links the run regenerated, old URL and new, in the order they were applied."""
        out = []
        for outcome in self.done:
            change = outcome.change
            if change.action is Action.REGENERATE and isinstance(change.before, LinkValues):
                out.append(
                    UrlChange(
                        channel=change.channel,
                        title=change.title or "",
                        where=where_shared(change.title or "", change.before.ref),
                        old_url=change.before.url,
                        new_url=outcome.url or "",
                    )
                )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        """The JSON apply result (``render.json.render_apply``)."""
        return {
            "ok": self.ok,
            "applied": [dict(o.change.to_dict(), result_url=o.url) for o in self.done],
            "failed": None
            if self.failed is None
            else dict(self.failed.to_dict(), error=self.error),
            "not_applied": [c.to_dict() for c in self.not_done],
            "workspace_changed": self.workspace_changed,
            "workspace": None if self.workspace is None else self.workspace.to_dict(),
            "url_changes": [u.to_dict() for u in self.url_changes],
        }


#: The error of the change under way when Ctrl-C stopped an apply running one at a time...
INTERRUPTED_DURING = (
    "interrupted (Ctrl-C) during this change: it may or may not have been made "
    "(a plan says); the changes after it were not started"
)
#: ...and of the first change not started when it stopped one running several at a time.
INTERRUPTED_BEFORE = (
    "interrupted (Ctrl-C): the changes under way were finished; none was started after them"
)


def ordered(changes: tuple[Change, ...]) -> list[Change]:
    """The changes in the order apply runs them (stable within each kind)."""
    return sorted(changes, key=lambda c: _ORDER[(c.action, c.resource)])


def idempotency_key(plan: Plan, change: Change, *, run: str) -> str:
    """One key per intended change of one run (``run``: a token ``apply.run`` draws once):
    a request retried within the run reuses it, so a create whose response was lost is
    replayed by the server, never made twice.

    Two runs never share a key, even of one saved plan applied twice at once (a CI job run
    twice): the second run's create then meets the link the first made (the store refuses
    a second link of a title: ``TitleTaken``) instead of being handed that link as its own,
    so of two racing applies only one reports creating it. A run killed mid-request and run
    again plans again from the workspace as it is, and finds the link made or not.

    The key also covers the state the plan was made from and the whole change (its values,
    not only its title), so no two intended changes share one.
    """
    data = change.to_dict()
    data["channel"] = fold(change.channel)
    ident = json.dumps(
        [run, plan.state_fingerprint, data], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(ident.encode("ascii")).hexdigest()[:32]


def check(plan: Plan, *, allow_removals: bool) -> None:
    """Refuse a plan that must not run: ``UnsafePlan`` for one with errors,
    ``RemovalsNotAllowed`` for removals without ``allow_removals``. Nothing has changed."""
    if not plan.applicable:
        lines = [f"  {d.severity}: {visible(d.message)}" for d in plan.errors]
        n = len(plan.errors)
        raise UnsafePlan(
            f"the plan has {plural(n, 'error')} and cannot be applied; "
            "nothing was changed:\n" + "\n".join(lines)
        )
    removals = plan.removals
    if removals and not allow_removals:
        names = [
            f"  - {c.resource} {visible(c.channel)}" + (f" / {visible(c.title)}" if c.title else "")
            for c in removals
        ]
        n = len(removals)
        raise RemovalsNotAllowed(
            f"the plan removes {plural(n, 'resource')}, which cannot be undone:\n"
            + "\n".join(names)
            + "\nRe-run with --allow-removals to apply it. Nothing was changed."
        )


def run(
    plan: Plan,
    backend: Backend,
    *,
    allow_removals: bool = False,
    on_step: Callable[[Outcome], None] | None = None,
    concurrency: int = 1,
) -> ApplyResult:
    """Apply ``plan`` through ``backend``; stop at the first failure.

    Raises a ``PlanError`` before any change when ``check`` refuses the plan. Steps run phase
    by phase (see ``ordered``); within a phase the changes are independent, and up to
    ``concurrency`` of them run at once, when the backend takes parallel writes (one at a
    time otherwise). After a failure, or Ctrl-C, no new step starts; the steps already running
    finish. The result names the failure (Ctrl-C: ``INTERRUPTED_DURING`` the change under way,
    or ``INTERRUPTED_BEFORE`` the first not started), what was done and what was not.
    """
    check(plan, allow_removals=allow_removals)
    if not backend.capabilities.parallel_writes:
        concurrency = 1
    steps = ordered(plan.changes)
    this = _Run(plan=plan, backend=backend, token=secrets.token_hex(16))
    done: list[tuple[int, Outcome]] = []
    failures: list[tuple[int, ReconcilerError]] = []
    for phase in _phases(steps):
        interrupted = False
        if concurrency <= 1 or len(phase) == 1:
            for index in phase:
                try:
                    outcome = _attempt(this, steps[index])
                except KeyboardInterrupt:
                    outcome = ReconcilerError(INTERRUPTED_DURING)
                _settle(index, outcome, done, failures, on_step)
                if failures:
                    break
        else:
            interrupted = _run_parallel(this, steps, phase, concurrency, done, failures, on_step)
        finished = {i for i, _ in done}
        left = next((i for i in range(len(steps)) if i not in finished), None)
        if interrupted and not failures and left is not None:
            failures.append((left, ReconcilerError(INTERRUPTED_BEFORE)))
        if failures:
            break
    if not failures:
        return ApplyResult(
            done=tuple(o for _, o in sorted(done, key=lambda d: d[0])), workspace=plan.workspace
        )
    failed_index, error = min(failures, key=lambda failure: failure[0])
    finished = {i for i, _ in done}
    not_done = tuple(
        change for i, change in enumerate(steps) if i not in finished and i != failed_index
    )
    outcomes = tuple(o for _, o in sorted(done, key=lambda d: d[0]))
    return ApplyResult(
        done=outcomes,
        not_done=not_done,
        failed=steps[failed_index],
        error=str(error),
        workspace_changed=isinstance(error, WorkspaceChanged),
        workspace=plan.workspace,
    )


def _phases(steps: list[Change]) -> list[list[int]]:
    """Indexes of ``steps`` grouped by kind, in order: each group runs after the one before."""
    phases: list[list[int]] = []
    last: int | None = None
    for index, change in enumerate(steps):
        rank = _ORDER[(change.action, change.resource)]
        if rank != last:
            phases.append([])
            last = rank
        phases[-1].append(index)
    return phases


@dataclass(frozen=True, slots=True)
class _Run:
    """One run of ``run``: its plan and backend, the token its idempotency keys are drawn
    with, and the ids of the channels it connected (by folded account: a channel connected
    here has no id in the plan, and its link changes come after it)."""

    plan: Plan
    backend: Backend
    token: str
    channel_ids: dict[str, str] = field(default_factory=dict)


def _run_parallel(
    this: _Run,
    steps: list[Change],
    phase: list[int],
    concurrency: int,
    done: list[tuple[int, Outcome]],
    failures: list[tuple[int, ReconcilerError]],
    on_step: Callable[[Outcome], None] | None,
) -> bool:
    """Run one phase with at most ``concurrency`` steps in flight; none starts after a failure,
    or after Ctrl-C (then the steps under way finish, and it returns True). Each worker takes
    the next step itself (no round trip through a coordinating thread, whose waits on every
    future in flight cost more than the steps at a high concurrency)."""
    pending = iter(phase)
    lock = threading.Lock()
    stop = threading.Event()
    active = [0]  # the workers between their start and their end
    quiet = threading.Condition(lock)

    def work() -> None:
        with lock:
            active[0] += 1
        try:
            while True:
                with lock:
                    index = None if failures or stop.is_set() else next(pending, None)
                if index is None:
                    return
                outcome = _attempt(this, steps[index])
                with lock:
                    _settle(index, outcome, done, failures, on_step)
        finally:
            with lock:
                active[0] -= 1
                quiet.notify_all()

    workers = min(concurrency, len(phase))
    pool = ThreadPoolExecutor(max_workers=workers)
    running: list[Future[None]] = []
    try:
        for _ in range(workers):
            running.append(pool.submit(work))
        pool.shutdown(wait=True)
    except KeyboardInterrupt:  # only the main thread gets it: the workers finish their step
        with lock:  # a worker that starts after this takes no step
            stop.set()
            # Waited for by the count, not by joining: a join Ctrl-C interrupted takes a
            # thread still running for ended (CPython 3.11), and a submit it interrupted
            # leaves a worker unlisted.
            quiet.wait_for(lambda: not active[0])
        pool.shutdown(wait=True)
    for future in running:
        future.result()  # anything but a ReconcilerError is a bug: raised here
    return stop.is_set()


def _settle(
    index: int,
    outcome: Outcome | ReconcilerError,
    done: list[tuple[int, Outcome]],
    failures: list[tuple[int, ReconcilerError]],
    on_step: Callable[[Outcome], None] | None,
) -> None:
    """Record the outcome of step ``index`` in ``done`` (and tell ``on_step``), or its
    ``ReconcilerError`` in ``failures``."""
    if isinstance(outcome, ReconcilerError):
        failures.append((index, outcome))
        return
    done.append((index, outcome))
    if on_step is not None:
        on_step(outcome)


def _attempt(this: _Run, change: Change) -> Outcome | ReconcilerError:
    """``_step``'s outcome, or the ``ReconcilerError`` it raised."""
    try:
        return _step(this, change)
    except ReconcilerError as exc:
        return exc


def _step(this: _Run, change: Change) -> Outcome:
    """Make one change of run ``this`` through its backend (a channel it connects: its id
    into ``this.channel_ids``)."""
    backend, channel_ids = this.backend, this.channel_ids
    key = fold(change.channel)
    channel_id = change.channel_id or channel_ids.get(key)
    if change.resource is Resource.CHANNEL:
        if change.action is Action.CONNECT:
            assert isinstance(change.after, ChannelValues)
            channel = backend.connect_channel(change.channel, change.after.display_name)
            channel_ids[key] = channel.id
        elif change.action is Action.RENAME:
            assert channel_id is not None and isinstance(change.after, ChannelValues)
            assert change.version is not None
            backend.rename_channel(channel_id, change.after.display_name, version=change.version)
        else:
            assert channel_id is not None and change.version is not None
            backend.remove_channel(channel_id, version=change.version)
        return Outcome(change)
    assert channel_id is not None, f"no channel id for {change.channel}"
    if change.action is Action.REMOVE:
        assert change.link_id is not None and change.version is not None
        backend.remove_link(channel_id, change.link_id, version=change.version)
        return Outcome(change)
    after = change.after
    assert isinstance(after, LinkValues)
    if change.action is Action.CREATE:
        link = backend.create_link(
            channel_id,
            title=after.title,
            ref=after.ref,
            message=after.message,
            key=idempotency_key(this.plan, change, run=this.token),
        )
    else:
        assert change.link_id is not None and change.version is not None
        link = backend.update_link(
            channel_id,
            change.link_id,
            title=after.title,
            ref=after.ref,
            message=after.message,
            version=change.version,
        )
    return Outcome(change, link.url)
