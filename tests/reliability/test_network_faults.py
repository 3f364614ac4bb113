"""Network faults: a hypothesis state machine drives the http backend against a real
``sandbox serve`` process whose faults change while it runs.

The server starts once per test with ``--control``, so a rule can set new faults through
``POST /_sandbox/faults`` between steps (restarting a server per schedule would cost a third
of a second each, and lose the fault counts). The faults: latency, 502/503/504 and 429 with
``Retry-After``, connections dropped before the work and after the commit (the response lost),
and connection resets (TCP RST). The rules:

- the desired config changes (links added, dropped, renamed, given a new
  message or ref; a channel renamed), each link at most once between two convergences, so each
  keeps its identity through the change;
- ``edit_and_converge``: a few such edits, a new fault schedule (any mix, seeded), then apply
  until a plan is empty, any round allowed to fail half-way: through the library (plan.build +
  apply.run, concurrency 4, a short retry policy) or the command line (``reconciler apply
  --backend http``, stamina's test mode).

After every round, converged or not, the store under the server (read directly, the ground
truth) is sound: no duplicate title, URLs by the rule, history in step, and no link the config
keeps has disappeared. After convergence the workspace equals the config exactly and every link
kept its id across renames and regenerations. The faults the server injected are counted
(``GET /_sandbox/faults``) and reported as figures.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from reconciler import apply as applier
from reconciler import plan as planner
from reconciler.backends.http import HttpBackend, RetryPolicy
from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredChannel, DesiredLink, DesiredState
from reconciler.sandbox.app import CONTROL_PATH
from tests.helpers import Sandbox, SandboxFactory
from tests.reliability.figures import record
from tests.reliability.invariants import assert_sound, link_set

KEY = "network-faults-test-key"
ACCOUNTS = ("alpha", "beta")
#: Retries in milliseconds, and few of them: under the worst schedules a request gives up now
#: and then, its round fails half-way, and the next round goes on from what the store has.
ATTEMPTS = 6
POLICY = RetryPolicy(
    attempts=ATTEMPTS, deadline=30.0, wait_initial=0.001, wait_max=0.004, wait_jitter=0.001,
    retry_after_max=0.01,
)  # fmt: skip
#: A config converges within this many apply rounds, or the test fails.
MAX_ROUNDS = 40

rates = st.sampled_from([0.0, 0.0, 0.05, 0.1, 0.2, 0.3])
fault_schedules = st.fixed_dictionaries(
    {
        "latency_ms": st.sampled_from([0.0, 0.0, 1.0, 3.0]),
        "fail_rate": rates,
        "throttle_rate": rates,
        "drop_before_commit_rate": rates,
        "drop_after_commit_rate": rates,
        "reset_rate": rates,
        "rate_limit": st.sampled_from([0.0, 0.0, 0.0, 300.0]),
        "retry_after": st.sampled_from([0, 1]),
        "seed": st.integers(0, 2**16),
    }
).filter(
    lambda f: sum(f[k] for k in f if k.endswith("_rate")) <= 0.6  # bad, not hopeless
)


@dataclass
class Wanted:
    """A link of the desired config, with an identity that survives renames and edits."""

    ident: int
    title: str
    ref: str | None
    message: str


def control(server: Sandbox, faults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Set the server's faults to ``faults`` (``{}``: none), or read them (None); the
    server's answer: the faults and how many of each were injected so far."""
    with server.client() as client:
        if faults is None:
            response = client.get(CONTROL_PATH)
        else:
            response = client.post(CONTROL_PATH, json=faults)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def make_machine(server: Sandbox, workdir: Path) -> type[RuleBasedStateMachine]:
    counter = itertools.count(1)
    store = server.store

    class FlakyWorkspace(RuleBasedStateMachine):
        """See the module docstring."""

        def __init__(self) -> None:
            super().__init__()
            self.desired: dict[str, list[Wanted]] = {}
            self.names: dict[str, str] = {}
            self.touched: set[int] = set()
            #: identity -> store id, as of the last convergence
            self.ids: dict[int, str] = {}

        @initialize(sizes=st.tuples(st.integers(0, 12), st.integers(0, 12)))
        def start(self, sizes: tuple[int, int]) -> None:
            control(server, {})
            backend = LocalBackend(store)  # behind the server's back: a fresh workspace
            for channel in backend.read().channels:
                backend.remove_channel(channel.id, version=channel.version)
            for account in ACCOUNTS:
                backend.connect_channel(account, account)
            backend.close()
            for account, size in zip(ACCOUNTS, sizes, strict=True):
                self.names[account] = account.title()
                self.desired[account] = [self._new() for _ in range(size)]

        def _new(self) -> Wanted:
            n = next(counter)
            ref = None if n % 3 == 0 else f"ref-{n}"
            return Wanted(n, f"Link {n}", ref, f"Message {n}: hé 🐾 & 100%")

        # --- rules ----------------------------------------------------------------------

        @rule(data=st.data(), faults=fault_schedules, cli_too=st.booleans())
        def edit_and_converge(
            self, data: st.DataObject, faults: dict[str, Any], cli_too: bool
        ) -> None:
            """A few edits to the config, then a convergence under a fault schedule."""
            for _ in range(data.draw(st.integers(1, 8))):
                self._edit(data)
            control(server, faults)
            if cli_too:
                self.converge_with_the_cli()
            else:
                self.converge()

        def _edit(self, data: st.DataObject) -> None:
            account = data.draw(st.sampled_from(ACCOUNTS))
            links = self.desired[account]
            free = [w for w in links if w.ident not in self.touched]
            ops = ["add", "rename-channel"] + (["drop", "rename", "message", "ref"] if free else [])
            op = data.draw(st.sampled_from(ops))
            n = next(counter)
            if op == "add":
                new = self._new()
                self.touched.add(new.ident)
                links.insert(data.draw(st.integers(0, len(links))), new)
                return
            if op == "rename-channel":
                self.names[account] = f"{account.title()} {n}"
                return
            target = data.draw(st.sampled_from(free))
            self.touched.add(target.ident)
            if op == "drop":
                links.remove(target)
            elif op == "rename":
                target.title = f"Renamed {n}"
            elif op == "message":
                target.message = f"Edited {n} ✓"
            else:
                target.ref = None if target.ref else f"new-ref-{n}"

        def converge(self) -> None:
            for _ in range(MAX_ROUNDS):
                backend = HttpBackend(server.url, KEY, policy=POLICY, concurrency=4)
                try:
                    done = self._round(backend)
                finally:
                    backend.close()
                self.check_sound()
                if done:
                    self.check_converged()
                    return
            raise AssertionError(f"no convergence in {MAX_ROUNDS} rounds")

        def converge_with_the_cli(self) -> None:
            config = workdir / "workspace.yaml"
            config.write_text(yaml.safe_dump(self._config_data(), allow_unicode=True))
            http = ["--backend", "http", "--api-url", server.url, "--concurrency", "4"]
            env = {"SLEEKFLOW_API_KEY": KEY, "RECONCILER_STORE": None, "NO_COLOR": "1"}
            runner = CliRunner()
            with stamina.set_testing(True, attempts=ATTEMPTS):
                for _ in range(MAX_ROUNDS):
                    applied = runner.invoke(
                        cli,
                        [
                            "apply",
                            str(config),
                            *http,
                            "--auto-approve",
                            "--allow-removals",
                            "--force",
                        ],
                        env=env,
                    )
                    assert "Traceback" not in applied.output, applied.output
                    assert "internal error" not in applied.output, applied.output
                    assert applied.exit_code in (0, 1), applied.output
                    record("network faults", cli_rounds=1, cli_rounds_failed=applied.exit_code)
                    self.check_sound()
                    if applied.exit_code != 0:
                        continue
                    planned = runner.invoke(
                        cli, ["plan", str(config), *http, "--detailed-exitcode", "--force"], env=env
                    )
                    assert "Traceback" not in planned.output, planned.output
                    if planned.exit_code == 0:
                        self.check_converged()
                        return
                raise AssertionError(f"no convergence in {MAX_ROUNDS} rounds")

        # --- one round, and the checks ------------------------------------------------

        def _round(self, backend: HttpBackend) -> bool:
            """One plan-and-apply; True when the plan had nothing left to do."""
            record("network faults", rounds=1)
            try:
                actual = backend.read()
            except ReconcilerError:
                record("network faults", rounds_failed=1)
                return False
            plan = planner.build(self._desired_state(), actual, force=True)
            assert plan.applicable, plan.to_dict()["diagnostics"]
            if not plan.changes:
                return True
            result = applier.run(plan, backend, allow_removals=True, concurrency=4)
            record("network faults", changes_applied=len(result.done))
            if not result.ok:
                record("network faults", rounds_failed=1)
            return False

        def _desired_state(self) -> DesiredState:
            return DesiredState(
                tuple(
                    DesiredChannel(
                        account=account,
                        display_name=self.names[account],
                        links=tuple(DesiredLink(w.title, w.message, w.ref) for w in links),
                    )
                    for account, links in self.desired.items()
                )
            )

        def _config_data(self) -> dict[str, Any]:
            channels = []
            for account, links in self.desired.items():
                items = []
                for w in links:
                    item = {"title": w.title, "message": w.message}
                    if w.ref is not None:
                        item["ref"] = w.ref
                    items.append(item)
                channels.append(
                    {"account": account, "display_name": self.names[account], "links": items}
                )
            return {"version": 1, "channels": channels}

        def check_sound(self) -> None:
            """Whatever the faults did: a sound store, and no link the config keeps lost."""
            state = assert_sound(store)
            present = {lk.id for c in state.channels for lk in c.links}
            kept = [w.ident for links in self.desired.values() for w in links]
            lost = [i for i in kept if i in self.ids and self.ids[i] not in present]
            assert not lost, f"links lost: {lost}"

        def check_converged(self) -> None:
            """The workspace is the config, exactly; every link kept its id."""
            state = assert_sound(store)
            for account, links in self.desired.items():
                assert link_set(state, account) == sorted(
                    (w.title, w.ref, w.message) for w in links
                )
                channel = state.channel(account)
                assert channel is not None and channel.display_name == self.names[account]
                by_title = {lk.title: lk.id for lk in channel.links}
                for w in links:
                    if w.ident in self.ids:
                        assert by_title[w.title] == self.ids[w.ident], f"{w} got a new id"
                    self.ids[w.ident] = by_title[w.title]
            self.touched.clear()
            record("network faults", convergences=1)

        @invariant()
        def server_alive(self) -> None:
            assert server.process.poll() is None, server.stderr

        def teardown(self) -> None:
            with contextlib.suppress(AssertionError, httpx.HTTPError):
                control(server, {})

    return FlakyWorkspace


#: What the sandbox counts as injected: each must occur in a run for it to prove anything.
FAULT_KINDS = frozenset({"throttle", "unavailable", "drop-before", "reset", "drop-after"})


def _run(sandbox: SandboxFactory, tmp_path: Path, examples: int, steps: int) -> dict[str, int]:
    """Run the state machine (its invariants are checked after every step); the faults the
    sandbox injected meanwhile, by kind."""
    server = sandbox("--control", "--seed", "1", store=tmp_path / "ws.db", api_key=KEY)
    machine = make_machine(server, tmp_path)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    counts = control(server)["counts"]
    injected = {kind: n for kind, n in counts.items() if kind != "none"}
    record("network faults", examples=examples, requests=sum(counts.values()))
    record("network faults injected", **injected)
    return injected


def test_random_fault_schedules_converge_with_nothing_lost_or_doubled(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    injected = _run(sandbox, tmp_path, examples=5, steps=6)
    # every kind of fault was met, and the invariants held through all of them
    assert {kind for kind, n in injected.items() if n > 0} >= FAULT_KINDS, injected


@pytest.mark.long
def test_long_random_fault_schedules(sandbox: SandboxFactory, tmp_path: Path) -> None:
    injected = _run(sandbox, tmp_path, examples=60, steps=15)
    assert {kind for kind, n in injected.items() if n > 0} >= FAULT_KINDS, injected


# --- the control itself ---------------------------------------------------------------------


@pytest.fixture
def controlled(sandbox: SandboxFactory) -> Iterator[Sandbox]:
    yield sandbox("--control", api_key=KEY)


def test_the_control_reads_and_sets_the_faults_and_counts_them(controlled: Sandbox) -> None:
    assert control(controlled)["faults"]["fail_rate"] == 0.0
    snapshot = control(controlled, {"fail_rate": 1, "retry_after": 0, "seed": 3})
    assert snapshot["faults"]["fail_rate"] == 1
    with controlled.client() as client:
        answers = [client.get("/v1/tiktok/channels").status_code for _ in range(3)]
    assert all(code in (502, 503, 504) for code in answers)
    assert control(controlled)["counts"]["unavailable"] == 3  # the control itself never faults
    control(controlled, {"reset_rate": 1})
    with controlled.client() as client, pytest.raises(httpx.ReadError):
        client.get("/v1/tiktok/channels")  # connection reset by peer
    counts = control(controlled, {})["counts"]
    assert counts["reset"] == 1 and counts["unavailable"] == 3
    with controlled.client() as client:
        assert client.get("/v1/tiktok/channels").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fail_rate": 2}, "fail-rate must be between 0 and 1"),
        ({"latency_ms": -1}, "--latency-ms must be between 0 and 60,000"),
        ({"bogus": 1}, "unknown fault settings: bogus"),
        ({"fail_rate": "0.5"}, "fail_rate must be a number"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"retry_after": True}, "retry_after must be an integer"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_fault_settings_are_a_422(controlled: Sandbox, body: Any, field: str) -> None:
    with controlled.client() as client:
        response = client.post(CONTROL_PATH, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"][0]["message"]


def test_the_control_needs_the_key_and_the_flag(
    controlled: Sandbox, sandbox: SandboxFactory, tmp_path: Path
) -> None:
    with controlled.client(key="wrong") as client:
        assert client.get(CONTROL_PATH).status_code == 401
        assert client.post(CONTROL_PATH, json={"fail_rate": 1}).status_code == 401
    with controlled.client() as client:
        assert client.put(CONTROL_PATH, json={}).status_code == 405
    plain = sandbox(store=tmp_path / "other.db")  # no --control: no such path
    with plain.client() as client:
        assert client.get(CONTROL_PATH).status_code == 404
        assert client.post(CONTROL_PATH, json={"fail_rate": 1}).status_code == 404
