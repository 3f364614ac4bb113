"""Crash consistency: ``reconciler apply`` killed with SIGKILL at many points of a 200-change
plan on the local store.

One store and one config are prepared: channel ``crash`` with 150 links and channel ``gone``
with 5; the config renames ``crash``, creates 78 links, renames 40 titles, regenerates 40
messages, drops 40 links and removes ``gone`` (200 changes). For each kill point, a copy of
the store gets ``reconciler apply --auto-approve --allow-removals`` in a real process, killed
once the store's history shows that many steps done: a read-only connection polls it while
the process runs in short slices (SIGCONT, a moment, SIGSTOP), so the kill lands on the step
asked for, and often inside its transaction (a hot journal, rolled back by the next open).
Then:

- the store is sound (``invariants.assert_sound``: integrity_check, foreign keys, URL rule,
  no duplicate title, history in step with the links);
- the store is exactly the first k steps of the plan, in apply's order, for some k: each
  change is either wholly done or not at all, and none is done while one before it isn't;
- nothing outside the plan moved: every link the config keeps still has its id;
- ``apply`` again exits 0, then ``plan --detailed-exitcode`` exits 0, and the links are the
  config's exactly (no duplicate, none lost).

Always: 8 kill points. ``pytest -m long``: one every 5 steps, and 40 more at random moments
(time offsets from the start, start-up and planning included).
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler import config as configs
from reconciler import plan as planner
from reconciler.apply import ordered
from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.model import WorkspaceState, fold
from reconciler.plan import Action, Change, LinkValues, Resource
from tests.reliability.figures import record
from tests.reliability.invariants import assert_sound, link_set
from tests.reliability.processes import APPLY_TIMEOUT_S, run_until, start

EXISTING = 150
CREATES = 78


@dataclass(frozen=True)
class Prepared:
    store: Path
    config: Path
    steps: list[Change]
    before: WorkspaceState
    history_rows: int


def _history_rows(store: Path) -> int:
    db = sqlite3.connect(store)
    try:
        return int(db.execute("SELECT count(*) FROM link_history").fetchone()[0])
    finally:
        db.close()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    directory = tmp_path_factory.mktemp("crash")
    store = directory / "ws.db"
    backend = LocalBackend(store)
    crash = backend.connect_channel("crash", "Crash (old name)")
    for i in range(EXISTING):
        backend.create_link(
            crash.id, title=f"Link {i:03d}", ref=f"r{i:03d}", message=f"Message {i}", key=f"c{i}"
        )
    gone = backend.connect_channel("gone", "Gone")
    for i in range(5):
        backend.create_link(gone.id, title=f"Old {i}", ref=None, message=f"Bye {i}", key=f"g{i}")
    before = backend.read()
    backend.close()

    links: list[dict[str, Any]] = []
    for i in range(30):  # unchanged
        links.append({"title": f"Link {i:03d}", "ref": f"r{i:03d}", "message": f"Message {i}"})
    for i in range(30, 70):  # title only: update, same URL
        links.append({"title": f"Renamed {i:03d}", "ref": f"r{i:03d}", "message": f"Message {i}"})
    for i in range(70, 110):  # message: regenerate, new URL
        links.append({"title": f"Link {i:03d}", "ref": f"r{i:03d}", "message": f"Changed {i} ✓"})
    # 110-149 are left out: removed
    for i in range(CREATES):
        links.append({"title": f"New {i:03d}", "ref": f"n{i:03d}", "message": f"Welcome {i}!"})
    data = {
        "version": 1,
        "channels": [
            {
                "account": "crash",
                "display_name": "Crash (new name)",
                "max_change_pct": 100,
                "links": links,
            },
            {"account": "gone", "remove": True},
        ],
    }
    config = directory / "workspace.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    the_plan = planner.build(configs.load(config), before, can_connect=True)
    assert the_plan.applicable
    steps = ordered(the_plan.changes)
    assert len(steps) == 200, the_plan.summary
    return Prepared(store, config, steps, before, _history_rows(store))


# --- what "k steps done" means ---------------------------------------------------------------


def _is_done(change: Change, state: WorkspaceState) -> bool:
    """Whether ``change`` shows in ``state``."""
    if change.resource is Resource.CHANNEL:
        channel = state.channel(change.channel)
        if change.action is Action.REMOVE:
            return channel is None
        assert channel is not None and change.after is not None
        return channel.display_name == change.after.display_name  # type: ignore[union-attr]
    channel = state.channel(change.channel)
    assert channel is not None
    by_id = {link.id: link for link in channel.links}
    after = change.after
    if change.action is Action.CREATE:
        assert isinstance(after, LinkValues)
        return any((lk.title, lk.ref, lk.message) == (after.title, after.ref, after.message)
                   for lk in channel.links)  # fmt: skip
    if change.action is Action.REMOVE:
        return change.link_id not in by_id
    assert isinstance(after, LinkValues) and change.link_id is not None
    link = by_id[change.link_id]
    return (link.title, link.ref, link.message) == (after.title, after.ref, after.message)


def assert_a_prefix_of_the_plan(prepared: Prepared, state: WorkspaceState) -> int:
    """The store is the first k steps of the plan exactly: every change wholly done or not
    at all (the rest as before), in apply's order. Returns k."""
    done = [_is_done(change, state) for change in prepared.steps]
    k = done.index(False) if False in done else len(done)
    assert done == [True] * k + [False] * (len(done) - k), f"not a prefix: {done}"
    # what isn't done is as it was: the links of crash are the old ones or the planned ones
    crash = state.channel("crash")
    assert crash is not None
    old = {lk.id: lk for lk in prepared.before.channel("crash").links}  # type: ignore[union-attr]
    planned = {c.link_id: c for c in prepared.steps if c.link_id is not None}
    creates = {
        (c.after.title, c.after.ref, c.after.message)  # type: ignore[union-attr]
        for c in prepared.steps
        if c.action is Action.CREATE
    }
    for link in crash.links:
        values = (link.title, link.ref, link.message)
        if link.id in old:
            was = old[link.id]
            change = planned.get(link.id)
            now = change.after if change is not None and change.after is not None else was
            assert values in {(was.title, was.ref, was.message), (now.title, now.ref, now.message)}  # type: ignore[union-attr]
        else:
            assert values in creates, f"a link nobody planned: {link}"
    gone = state.channel("gone")
    if gone is not None:
        assert len(gone.links) == 5
    return k


def assert_converged(prepared: Prepared, store: Path) -> None:
    """apply again: exit 0; then no change left, the links are the config's, none lost."""
    runner = CliRunner()
    env = {"RECONCILER_STORE": None, "RECONCILER_BACKEND": None}
    again = runner.invoke(
        cli,
        [
            "apply",
            str(prepared.config),
            "--store",
            str(store),
            "--auto-approve",
            "--allow-removals",
        ],
        env=env,
    )
    assert again.exit_code == 0, again.output
    assert "Traceback" not in again.output
    plan = runner.invoke(
        cli, ["plan", str(prepared.config), "--store", str(store), "--detailed-exitcode"], env=env
    )
    assert plan.exit_code == 0, plan.output
    state = assert_sound(store)
    desired = configs.load(prepared.config).channels[0]
    assert link_set(state, "crash") == sorted(
        (lk.title, lk.ref, lk.message) for lk in desired.links
    )
    assert state.channel("gone") is None
    crash = state.channel("crash")
    assert crash is not None and crash.display_name == "Crash (new name)"
    # nothing lost: every link the config keeps (unchanged, renamed, regenerated) kept its id
    kept_ids = {lk.id for lk in crash.links}
    before = prepared.before.channel("crash")
    assert before is not None
    assert {lk.id for lk in before.links[:110]} <= kept_ids
    assert len(crash.links) == 110 + CREATES


# --- one kill ---------------------------------------------------------------------------------


def kill_and_check(
    prepared: Prepared, directory: Path, *, after_rows: int | None = None, after_s: float = 0.0
) -> int:
    """Copy the store, start an apply, SIGKILL it once the history has ``after_rows`` more
    rows (or ``after_s`` seconds after start), check the store, converge. The number of
    steps that were done when it died."""
    directory.mkdir()
    store = directory / "ws.db"
    shutil.copy(prepared.store, store)
    args = ["apply", prepared.config, "--store", store, "--auto-approve", "--allow-removals"]
    run = start(args, directory, "apply")
    process = run.process
    try:
        if after_rows is None:
            time.sleep(after_s)
        else:
            run_until(process, store, prepared.history_rows + after_rows, tail=0.0004)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=APPLY_TIMEOUT_S)
    assert "Traceback" not in run.stderr, run.stderr
    killed = process.returncode == -signal.SIGKILL
    assert killed or process.returncode == 0, (process.returncode, run.stderr)

    journal = store.with_name(store.name + "-journal")
    mid_transaction = journal.exists() and journal.stat().st_size > 0  # rolled back next
    state = assert_sound(store)
    steps = assert_a_prefix_of_the_plan(prepared, state)
    if not killed:
        assert steps == len(prepared.steps)
    assert_converged(prepared, store)
    record(
        "crash",
        kills=int(killed),
        kills_mid_apply=int(killed and 0 < steps < len(prepared.steps)),
        kills_mid_transaction=int(mid_transaction),
        reapplies_converged=1,
    )
    return steps


def _run(prepared: Prepared, tmp_path: Path, rows: list[int], offsets: list[float]) -> list[int]:
    seen = [kill_and_check(prepared, tmp_path / f"rows-{r}", after_rows=r) for r in rows]
    seen += [
        kill_and_check(prepared, tmp_path / f"at-{n}-{t:.3f}s", after_s=t)
        for n, t in enumerate(offsets)
    ]
    record("crash", distinct_kill_points=len(set(seen)))
    return seen


def test_apply_killed_at_8_points_leaves_a_sound_store_that_converges(
    prepared: Prepared, tmp_path: Path
) -> None:
    # history rows: 78 creates, 40 renames, 40 regenerations, 40 removals, then 5 for the
    # channel removal; a kill "at 0" is before the first link step (after the channel rename)
    seen = _run(prepared, tmp_path, [0, 1, 30, 78, 100, 130, 170, 197], [])
    assert sum(0 < k < len(prepared.steps) for k in seen) >= 5, seen


@pytest.mark.long
def test_long_apply_killed_every_5_steps_and_at_random_moments(
    prepared: Prepared, tmp_path: Path
) -> None:
    rng = random.Random(20251125)
    # the whole apply takes some 0.3 s here, start-up included: kill anywhere in it
    offsets = sorted(rng.uniform(0.05, 0.4) for _ in range(40))
    seen = _run(prepared, tmp_path, list(range(0, 200, 5)), offsets)
    assert len(set(seen)) >= 30, sorted(set(seen))


def test_the_prepared_plan_has_every_kind_of_change(prepared: Prepared) -> None:
    kinds = {(c.action, c.resource) for c in prepared.steps}
    assert kinds == {
        (Action.RENAME, Resource.CHANNEL),
        (Action.CREATE, Resource.LINK),
        (Action.UPDATE, Resource.LINK),
        (Action.REGENERATE, Resource.LINK),
        (Action.REMOVE, Resource.LINK),
        (Action.REMOVE, Resource.CHANNEL),
    }
    assert fold("crash") in {fold(c.channel) for c in prepared.steps}
