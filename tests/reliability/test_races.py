"""Concurrency: two applies racing on the same local store, or on the same API.

Two real ``reconciler apply`` processes, with the same config or different ones, started
together or interleaved on purpose: one is paused (SIGSTOP) after some of its steps, the other
runs, then the first resumes with a plan made from a workspace that has moved. Whatever the
interleaving:

- each run exits 0 (it did its plan) or exits 1 with a clear refusal (a title the channel
  has since gained, a link gone since the plan, a stale saved plan), never a traceback; two
  runs never share an idempotency key, so a create the other run made is a title taken, not
  a replay reported as this run's own;
- the store is sound at every end (``invariants.assert_sound``): in particular no two links of
  a channel share a title;
- one more apply converges: ``plan --detailed-exitcode`` is 0 and the links are the config's.

The race this found: two applies that read the workspace at different moments made different
idempotency keys for the same create, so both created it (two links, one title). The store
now refuses a create (or a rename) to a title its channel already has (``TitleTaken``; over
the API ``409 title-taken``), in the transaction that would add it. The deterministic
regression tests at the end replay that interleaving step by step.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from reconciler import apply as applier
from reconciler import plan as planner
from reconciler.backends.http import HttpBackend
from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.model import DesiredChannel, DesiredLink, DesiredState
from tests.helpers import Sandbox, SandboxFactory
from tests.reliability.figures import record
from tests.reliability.invariants import assert_sound, link_set
from tests.reliability.processes import APPLY_TIMEOUT_S, Run, run_until, start

ACCOUNT = "race"
#: What a run that lost a race may say (and nothing else).
REFUSAL = re.compile(
    r"already has a link titled|changed since the plan|since it was planned|does not exist"
    r"|the plan is stale"
)


def write_config(path: Path, links: list[dict[str, Any]]) -> Path:
    data = {
        "version": 1,
        "channels": [
            {"account": ACCOUNT, "display_name": "Race", "max_change_pct": 100, "links": links}
        ],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def prepare_store(store: Path) -> None:
    """Channel ``race`` with 10 links to keep ("Keep N") and 5 to drop ("Old N")."""
    backend = LocalBackend(store)
    channel = backend.connect_channel(ACCOUNT, "Race")
    for i in range(10):
        backend.create_link(
            channel.id, title=f"Keep {i}", ref=f"k{i}", message=f"Keep {i}", key=f"k{i}"
        )
    for i in range(5):
        backend.create_link(channel.id, title=f"Old {i}", ref=None, message=f"Old {i}", key=f"o{i}")
    backend.close()


def same_config(directory: Path) -> Path:
    """60 creates, 10 regenerations, 5 removals."""
    links = [{"title": f"Keep {i}", "ref": f"k{i}", "message": f"Kept {i} ✓"} for i in range(10)]
    links += [
        {"title": f"Link {i:02d}", "ref": f"l{i}", "message": f"Hello {i}"} for i in range(60)
    ]
    return write_config(directory / "same.yaml", links)


def config_a(directory: Path) -> Path:
    """Renames "Keep 0" to "Shared" (an update, the same URL), creates "A only"."""
    links = [{"title": "Shared", "ref": "k0", "message": "Keep 0"}]
    links += [{"title": f"Keep {i}", "ref": f"k{i}", "message": f"Keep {i}"} for i in range(1, 10)]
    links += [{"title": "A only", "message": "From A"}]
    links += [{"title": f"A {i:02d}", "message": f"A {i}"} for i in range(20)]
    return write_config(directory / "a.yaml", links)


def config_b(directory: Path) -> Path:
    """Keeps "Keep 0", creates "B only" first, then "Shared" (another message)."""
    links = [{"title": f"Keep {i}", "ref": f"k{i}", "message": f"Keep {i}"} for i in range(10)]
    links += [{"title": "B only", "message": "From B"}]
    links += [{"title": f"B {i:02d}", "message": f"B {i}"} for i in range(20)]
    links += [{"title": "Shared", "message": "From B, not A"}]
    return write_config(directory / "b.yaml", links)


def apply_args(config: Path, where: list[str]) -> list[str | Path]:
    return ["apply", config, *where, "--auto-approve", "--allow-removals"]


def check_outcome(*runs: Run) -> list[int]:
    """Each run finished cleanly: 0, or 1 with a refusal naming why. Their exit codes."""
    codes = []
    for run in runs:
        code = run.wait()
        output = run.stdout + run.stderr
        assert "Traceback" not in output and "internal error" not in output, output
        assert code in (0, 1), f"exit {code}:\n{output}"
        if code == 1:
            assert REFUSAL.search(output), f"an unclear refusal:\n{output}"
        codes.append(code)
    record("races", runs=len(runs), refused=codes.count(1), succeeded=codes.count(0))
    return codes


def converge(
    config: Path, where: list[str], store: Path, env: dict[str, str] | None = None
) -> None:
    """One more apply: exit 0; then nothing left to do, and the links are the config's."""
    runner = CliRunner()
    env_: dict[str, str | None] = {"RECONCILER_STORE": None, **(env or {})}
    applied = runner.invoke(cli, [str(a) for a in apply_args(config, where)], env=env_)
    assert applied.exit_code == 0, applied.output
    planned = runner.invoke(cli, ["plan", str(config), *where, "--detailed-exitcode"], env=env_)
    assert planned.exit_code == 0, planned.output
    wanted = yaml.safe_load(config.read_text(encoding="utf-8"))["channels"][0]["links"]
    state = assert_sound(store)
    assert link_set(state, ACCOUNT) == sorted(
        (lk["title"], lk.get("ref"), lk["message"]) for lk in wanted
    )


def pause_between_transactions(run: Run, store: Path) -> None:
    """Stop ``run`` where it holds no lock on the store (a process stopped inside a
    transaction makes the other wait out its busy timeout: a test of its own, below)."""
    deadline = time.monotonic() + APPLY_TIMEOUT_S
    db = sqlite3.connect(store, timeout=0.0)
    try:
        while run.process.poll() is None and time.monotonic() < deadline:
            try:
                db.execute("BEGIN EXCLUSIVE")  # only when nobody holds even a read lock
                db.execute("ROLLBACK")
                return
            except sqlite3.OperationalError:
                run.process.send_signal(signal.SIGCONT)
                time.sleep(0.0003)
                run.process.send_signal(signal.SIGSTOP)
    finally:
        db.close()


def rows(store: Path) -> int:
    db = sqlite3.connect(store)
    try:
        return int(db.execute("SELECT count(*) FROM link_history").fetchone()[0])
    finally:
        db.close()


# --- the local store ------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> tuple[Path, list[str]]:
    store = tmp_path / "ws.db"
    prepare_store(store)
    return store, ["--store", str(store)]


@pytest.mark.parametrize("stagger", [0.0, 0.05, 0.15])
def test_one_config_applied_twice_at_once_on_a_local_store(
    local: tuple[Path, list[str]], tmp_path: Path, stagger: float
) -> None:
    store, where = local
    config = same_config(tmp_path)
    first = start(apply_args(config, where), tmp_path, "first")
    time.sleep(stagger)
    second = start(apply_args(config, where), tmp_path, "second")
    check_outcome(first, second)
    assert_sound(store)
    converge(config, where, store)


def test_an_apply_paused_half_way_refuses_what_the_other_did_meanwhile(
    local: tuple[Path, list[str]], tmp_path: Path
) -> None:
    store, where = local
    config = same_config(tmp_path)
    initial = rows(store)
    paused = start(apply_args(config, where), tmp_path, "paused")
    run_until(paused.process, store, initial + 5)
    pause_between_transactions(paused, store)  # may take it some steps further
    created = rows(store) - initial  # creates come first: one history row each
    other = start(apply_args(config, where), tmp_path, "other")
    assert check_outcome(other) == [0]  # it planned from the moved workspace: all fine
    codes = check_outcome(paused)
    if created < 60:  # it had creates left: the next is a title the channel now has
        assert codes == [1]
        assert "already has a link titled 'Link " in paused.stdout
    assert_sound(store)
    converge(config, where, store)


def test_two_configs_racing_on_a_local_store(local: tuple[Path, list[str]], tmp_path: Path) -> None:
    store, where = local
    a, b = config_a(tmp_path), config_b(tmp_path)
    # b is paused after its first create; a runs whole (and removes what b added); b resumes
    initial = rows(store)
    paused = start(apply_args(b, where), tmp_path, "b")
    run_until(paused.process, store, initial + 1)
    pause_between_transactions(paused, store)  # may take it some steps further
    created = rows(store) - initial
    assert check_outcome(start(apply_args(a, where), tmp_path, "a")) == [0]
    codes = check_outcome(paused)
    if created < 22:  # "Shared", its last create, is now the title of a's renamed link
        assert codes == [1]
        assert "already has a link titled 'Shared'" in paused.stdout
    assert_sound(store)
    # then both at once, twice over
    for n in range(2):
        check_outcome(
            start(apply_args(b, where), tmp_path, f"b{n}"),
            start(apply_args(a, where), tmp_path, f"a{n}"),
        )
        assert_sound(store)
    converge(a, where, store)


def test_saved_plans_racing_on_a_local_store(local: tuple[Path, list[str]], tmp_path: Path) -> None:
    store, where = local
    config = same_config(tmp_path)
    runner = CliRunner()
    for name in ("p1.json", "p2.json", "p3.json"):
        made = runner.invoke(cli, ["plan", str(config), *where, "--out", str(tmp_path / name)])
        assert made.exit_code == 0, made.output
    # two reviewed plans applied at once: a create the other made is refused, not doubled
    saved = [
        ["apply", "--plan", tmp_path / name, *where, "--auto-approve", "--allow-removals"]
        for name in ("p1.json", "p2.json")
    ]
    check_outcome(start(saved[0], tmp_path, "p1"), start(saved[1], tmp_path, "p2"))
    assert_sound(store)
    # a third, made before them, is stale now
    late = start(
        ["apply", "--plan", tmp_path / "p3.json", *where, "--auto-approve"], tmp_path, "p3"
    )
    assert check_outcome(late) == [1]
    assert "the plan is stale" in late.stderr
    converge(config, where, store)


@pytest.mark.long
def test_long_a_writer_stopped_inside_its_transaction_makes_the_other_refuse_cleanly(
    local: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """The other waits out SQLite's busy timeout (10 s), then refuses: nothing half-done."""
    store, where = local
    config = same_config(tmp_path)
    stuck = start(apply_args(config, where), tmp_path, "stuck")
    db = sqlite3.connect(store, timeout=0.0)
    try:  # stop it while it holds the write lock
        run_until(stuck.process, store, rows(store) + 10)
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
            except sqlite3.OperationalError:
                break
            stuck.process.send_signal(signal.SIGCONT)
            time.sleep(0.0002)
            stuck.process.send_signal(signal.SIGSTOP)
    finally:
        db.close()
    other = start(apply_args(config, where), tmp_path, "other")
    code = other.process.wait(timeout=APPLY_TIMEOUT_S)
    assert code == 1
    assert "database is locked" in other.stdout + other.stderr
    assert "Traceback" not in other.stdout + other.stderr
    assert check_outcome(stuck) == [0]
    converge(config, where, store)


@pytest.mark.long
@pytest.mark.parametrize("repeat", range(10))
def test_long_many_free_races_on_a_local_store(
    local: tuple[Path, list[str]], tmp_path: Path, repeat: int
) -> None:
    store, where = local
    configs = [same_config(tmp_path), config_a(tmp_path), config_b(tmp_path)]
    runs = [
        start(apply_args(configs[(repeat + n) % 3], where), tmp_path, f"r{n}") for n in range(3)
    ]
    check_outcome(*runs)
    assert_sound(store)
    converge(configs[repeat % 3], where, store)


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(sandbox: SandboxFactory, tmp_path: Path) -> Iterator[tuple[Path, list[str], Sandbox]]:
    store = tmp_path / "ws.db"
    prepare_store(store)
    server = sandbox("--latency-ms", "2", store=store)
    yield store, ["--backend", "http", "--api-url", server.url], server


def test_one_config_applied_twice_at_once_over_the_api(
    api: tuple[Path, list[str], Sandbox], tmp_path: Path
) -> None:
    store, where, _ = api
    config = same_config(tmp_path)
    for n in range(2):
        check_outcome(
            start(apply_args(config, where), tmp_path, f"first{n}"),
            start(apply_args(config, where), tmp_path, f"second{n}"),
        )
        assert_sound(store)
    converge(config, where, store)


def test_an_apply_paused_half_way_over_the_api(
    api: tuple[Path, list[str], Sandbox], tmp_path: Path
) -> None:
    store, where, _ = api
    config = same_config(tmp_path)
    paused = start(apply_args(config, where), tmp_path, "paused")
    run_until(paused.process, store, rows(store) + 20)
    other = start(apply_args(config, where), tmp_path, "other")
    assert check_outcome(other) == [0]
    assert check_outcome(paused) == [1]
    assert "HTTP 409" in paused.stdout and "already has a link titled" in paused.stdout
    assert_sound(store)
    converge(config, where, store)


def test_two_configs_racing_over_the_api(
    api: tuple[Path, list[str], Sandbox], tmp_path: Path
) -> None:
    store, where, _ = api
    a, b = config_a(tmp_path), config_b(tmp_path)
    paused = start(apply_args(b, where), tmp_path, "b")
    run_until(paused.process, store, rows(store) + 1)
    assert check_outcome(start(apply_args(a, where), tmp_path, "a")) == [0]
    assert check_outcome(paused) == [1]
    assert_sound(store)
    check_outcome(
        start(apply_args(a, where), tmp_path, "a2"), start(apply_args(b, where), tmp_path, "b2")
    )
    assert_sound(store)
    converge(b, where, store)


# --- the interleaving that doubled a link, step by step -------------------------------------


def _desired(*titles: str) -> DesiredState:
    links = tuple(DesiredLink(t, f"Message of {t}") for t in titles)
    return DesiredState((DesiredChannel(ACCOUNT, "Race", links),))


def _interleave(make_backend: Any) -> tuple[applier.ApplyResult, list[str]]:
    """Run A plans from the workspace and makes its first create; run B plans now (the
    workspace has moved: other idempotency keys); A finishes; then B applies."""
    a, b = make_backend(), make_backend()
    want = _desired("L0", "L1", "L2", "L3")
    plan_a = planner.build(want, a.read())
    steps = applier.ordered(plan_a.changes)
    channel_id = steps[0].channel_id
    for change in steps[:1]:
        a.create_link(channel_id, title=change.title, ref=None, message=change.after.message,
                      key=applier.idempotency_key(plan_a, change, run="a"))  # fmt: skip
    plan_b = planner.build(want, b.read())
    for change in steps[1:]:
        a.create_link(channel_id, title=change.title, ref=None, message=change.after.message,
                      key=applier.idempotency_key(plan_a, change, run="a"))  # fmt: skip
    result = applier.run(plan_b, b)
    titles = sorted(lk.title for c in a.read().channels for lk in c.links)
    a.close()
    b.close()
    return result, titles


def test_a_create_planned_from_a_moved_workspace_is_refused_locally(tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    backend = LocalBackend(store)
    backend.connect_channel(ACCOUNT, "Race")
    backend.close()
    result, titles = _interleave(lambda: LocalBackend(store))
    assert titles == ["L0", "L1", "L2", "L3"]  # was L0 L1 L1 L2 L2 L3 L3 before the fix
    assert not result.ok
    assert result.error is not None and "already has a link titled 'L1'" in result.error
    assert [o.change.title for o in result.done] == []
    record("races", step_by_step_interleavings=1)


def test_a_create_planned_from_a_moved_workspace_is_refused_over_the_api(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    backend = LocalBackend(store)
    backend.connect_channel(ACCOUNT, "Race")
    backend.close()
    server = sandbox(store=store)
    result, titles = _interleave(lambda: HttpBackend(server.url, None))
    assert titles == ["L0", "L1", "L2", "L3"]
    assert not result.ok
    assert result.error is not None and "HTTP 409" in result.error
    assert "already has a link titled 'L1'" in result.error
    record("races", step_by_step_interleavings=1)


def test_a_rename_to_a_title_taken_meanwhile_is_refused(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "ws.db")
    channel = backend.connect_channel(ACCOUNT, "Race")
    old = backend.create_link(channel.id, title="Old", ref=None, message="m", key="k1")
    backend.create_link(channel.id, title="NEW", ref=None, message="n", key="k2")
    from reconciler.errors import TitleTaken

    with pytest.raises(TitleTaken, match="already has a link titled 'NEW'"):
        backend.update_link(channel.id, old.id, title="new", ref=None, message="m", version=1)
    # a change of case of its own title is no clash
    renamed = backend.update_link(channel.id, old.id, title="OLD", ref=None, message="m", version=1)
    assert renamed.title == "OLD"
    assert sorted(lk.title for lk in backend.read().channels[0].links) == ["NEW", "OLD"]
    backend.close()
