"""Racing saved plans: two plans made from one state, applied at the same time.

Every write is conditional on the version the plan saw (``If-Match`` over the API, the same
check inside the store's write transaction locally), so of two applies that change one link,
never both report success: the one that loses is refused as stale (it read the workspace
after the other wrote) or stops at the conditional write (both read before either wrote) and
says the workspace changed during the apply. The link ends with the winner's message, and
the winner's ``url_changes`` names the link's URL. Two plans that change different links of
one channel may both succeed; when they do, the end state has both changes.

Each trial runs two real ``reconciler apply --plan`` processes at once; the deterministic
test at the end replays the interleaving where both pass every check before either writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler import apply as applier
from reconciler import planning
from reconciler.backends.http import HttpBackend
from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.errors import StalePlan
from reconciler.plan import saved
from tests.helpers import SandboxFactory
from tests.reliability.figures import record
from tests.reliability.processes import start

#: Trials of each race a bare ``pytest`` runs, and ``pytest -m long`` (docs/reliability.md).
TRIALS = 10
LONG_TRIALS = 50
#: What the apply that lost may say (and nothing else): refused before any write, or
#: stopped by the conditional write (the JSON report's flag).
LOSER = ("the plan is stale", '"workspace_changed": true')


def connect(store: Path, account: str) -> None:
    """Channel ``account`` with links "Target" and "Other", in the store."""
    backend = LocalBackend(store)
    try:
        channel = backend.connect_channel(account, "Race")
        for title in ("Target", "Other"):
            backend.create_link(
                channel.id, title=title, ref=None, message=f"{title} 0", key=f"{account}{title}"
            )
    finally:
        backend.close()


def config(path: Path, account: str, **messages: str) -> Path:
    """A config of channel ``account`` with Target's and Other's messages (``messages``
    overrides ``Target 0`` / ``Other 0``)."""
    links = [
        {"title": title, "message": messages.get(title.lower(), f"{title} 0")}
        for title in ("Target", "Other")
    ]
    data = {
        "version": 1,
        "channels": [{"account": account, "display_name": "Race", "links": links}],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def plan_out(config_path: Path, where: list[str], env: dict[str, str | None]) -> Path:
    """``plan CONFIG --out`` in process; the saved plan's path."""
    out = config_path.with_suffix(".json")
    result = CliRunner().invoke(cli, ["plan", str(config_path), *where, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    return out


def links_of(store: Path, account: str) -> dict[str, tuple[str, str]]:
    """Title -> (message, URL) of the links of ``account``."""
    backend = LocalBackend(store)
    try:
        channel = backend.read().channel(account)
    finally:
        backend.close()
    assert channel is not None
    return {lk.title: (lk.message, lk.url) for lk in channel.links}


def race(
    tmp_path: Path,
    store: Path,
    where: list[str],
    env: dict[str, str | None],
    trial: int,
    *,
    same_link: bool,
) -> list[int]:
    """One trial: two saved plans from one state, applied at once. Checks the promises; the
    exit codes (x's, y's)."""
    account = f"race{trial}"
    connect(store, account)
    directory = tmp_path / account
    directory.mkdir()
    x = config(directory / "x.yaml", account, target=f"from X {trial}")
    y_messages = {"target": f"from Y {trial}"} if same_link else {"other": f"from Y {trial}"}
    y = config(directory / "y.yaml", account, **y_messages)
    plans = [plan_out(x, where, env), plan_out(y, where, env)]
    clean = {k: v for k, v in env.items() if v is not None}
    runs = [
        start(["apply", "--plan", plan, conf, *where, "--format", "json"], directory, name, clean)
        for plan, conf, name in ((plans[0], x, "x"), (plans[1], y, "y"))
    ]
    codes = [run.wait() for run in runs]
    for run, code in zip(runs, codes, strict=True):
        output = run.stdout + run.stderr
        assert "Traceback" not in output and "internal error" not in output, output
        assert code in (0, 1), output
        if code == 1:
            assert any(reason in output for reason in LOSER), output
    now = links_of(store, account)
    if same_link:
        assert codes.count(0) == 1, f"exit codes {codes}: exactly one apply may succeed"
        winner = runs[codes.index(0)]
        message = f"from {'X' if winner is runs[0] else 'Y'} {trial}"
        assert now["Target"][0] == message
        (change,) = json.loads(winner.stdout)["url_changes"]
        assert change["new_url"] == now["Target"][1]
        record("conditional writes", same_link_trials=1, both_succeeded=0)
    else:
        assert 0 in codes, f"exit codes {codes}: at least one apply succeeds"
        assert (now["Target"][0] == f"from X {trial}") == (codes[0] == 0)
        assert (now["Other"][0] == f"from Y {trial}") == (codes[1] == 0)
        record(
            "conditional writes",
            different_links_trials=1,
            different_links_both_succeeded=int(codes == [0, 0]),
        )
    record(
        "conditional writes",
        losers_stale=sum("the plan is stale" in r.stderr for r in runs),
        losers_stopped_by_conditional_write=sum(LOSER[1] in r.stdout for r in runs),
    )
    return codes


@pytest.fixture
def local(tmp_path: Path) -> tuple[Path, list[str], dict[str, str | None]]:
    store = tmp_path / "ws.db"
    LocalBackend(store).close()
    return store, ["--store", str(store)], {"RECONCILER_STORE": None}


@pytest.fixture
def over_http(
    tmp_path: Path, sandbox: SandboxFactory
) -> Iterator[tuple[Path, list[str], dict[str, str | None]]]:
    store = tmp_path / "ws.db"
    LocalBackend(store).close()
    server = sandbox(store=store)
    yield store, ["--backend", "http", "--api-url", server.url], {"RECONCILER_STORE": None}


def same_link_trials(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, trials: int
) -> list[list[int]]:
    """``trials`` races over one link; the exit codes of each (``race`` checks each)."""
    store, where, env = request.getfixturevalue(backend)
    outcomes = [race(tmp_path, store, where, env, n, same_link=True) for n in range(trials)]
    record("conditional writes", **{f"{backend}_trials": trials})
    return outcomes


@pytest.mark.parametrize("backend", ["local", "over_http"])
def test_two_plans_changing_one_link_never_both_succeed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    outcomes = same_link_trials(backend, request, tmp_path, TRIALS)
    assert all(sorted(codes) == [0, 1] for codes in outcomes)


@pytest.mark.long
@pytest.mark.parametrize("backend", ["local", "over_http"])
def test_long_fifty_racing_pairs_never_both_succeed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    outcomes = same_link_trials(backend, request, tmp_path, LONG_TRIALS)
    assert all(sorted(codes) == [0, 1] for codes in outcomes)


@pytest.mark.parametrize("backend", ["local", "over_http"])
def test_two_plans_changing_different_links_keep_both_changes(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store, where, env = request.getfixturevalue(backend)
    outcomes = [race(tmp_path, store, where, env, n, same_link=False) for n in range(TRIALS // 2)]
    assert all(0 in codes for codes in outcomes)


def test_both_past_every_check_the_second_write_is_refused(tmp_path: Path) -> None:
    """The interleaving the conditional write exists for: both plans pass every check of
    ``plan.saved`` against the same read, then one writes; the other's write is refused,
    and it reports the change it did not make."""
    store = tmp_path / "ws.db"
    connect(store, "race")
    env: dict[str, str | None] = {"RECONCILER_STORE": None}
    where = ["--store", str(store)]
    x = plan_out(config(tmp_path / "x.yaml", "race", target="from X"), where, env)
    y = plan_out(config(tmp_path / "y.yaml", "race", target="from Y"), where, env)
    backend = LocalBackend(store)
    try:
        state = backend.read()
        ready = [
            saved.replan(
                saved.load(path),
                state,
                name=str(path),
                workspace=backend.workspace(),
                can_connect=True,
            )
            for path in (x, y)
        ]
        first = applier.run(ready[0], backend)
        second = applier.run(ready[1], backend)
        with pytest.raises(StalePlan):  # and a third look at y now finds it stale
            saved.replan(
                saved.load(y),
                backend.read(),
                name=str(y),
                workspace=backend.workspace(),
                can_connect=True,
            )
    finally:
        backend.close()
    assert first.ok and not second.ok
    assert second.workspace_changed
    assert second.url_changes == ()
    assert links_of(store, "race")["Target"][0] == "from X"
    assert first.url_changes[0].new_url == links_of(store, "race")["Target"][1]


@pytest.mark.parametrize("backend", ["local", "over_http"])
def test_one_reviewed_create_applied_twice_at_once_succeeds_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """One saved plan that creates a link, applied by two runs (a CI job run twice) that
    both pass every check before either writes: one creates the link, the other is refused
    (the title is taken), never both report creating it. (The same idempotency key in both
    runs used to hand the second run the first's link as its own.)"""
    store, where, env = request.getfixturevalue(backend)
    connect(store, "twice")
    conf = tmp_path / "twice.yaml"
    conf.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "channels": [
                    {
                        "account": "twice",
                        "display_name": "Race",
                        "links": [
                            {"title": "Target", "message": "Target 0"},
                            {"title": "Other", "message": "Other 0"},
                            {"title": "New", "message": "Made once"},
                        ],
                    }
                ],
            },
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    recorded = saved.load(plan_out(conf, where, env))
    runs = []
    for _ in range(2):
        opened = (
            LocalBackend(store)
            if backend == "local"
            else HttpBackend(where[where.index("--api-url") + 1], None)
        )
        runs.append((planning.reviewed(recorded, opened, name="twice.json", force=False), opened))
    results = [applier.run(the_plan, opened) for the_plan, opened in runs]
    for _, opened in runs:
        opened.close()
    assert [r.ok for r in results] == [True, False]
    assert results[1].done == () and results[1].failed is not None
    assert results[1].error is not None and "already has a link titled 'New'" in results[1].error
    assert list(links_of(store, "twice")) == ["Target", "Other", "New"]
