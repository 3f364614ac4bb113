"""apply.run against a real local workspace: the guards, the order, partial failure, URL
changes, idempotency keys, and (a property) that plan + apply always converges."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import apply as applier
from reconciler import plan as planner
from reconciler.apply import ApplyResult, Outcome, UrlChange, idempotency_key
from reconciler.backends.base import Capabilities
from reconciler.backends.http import HttpBackend
from reconciler.backends.local import LocalBackend
from reconciler.backends.local.api import StoreApi
from reconciler.errors import BackendError, PlanError, TitleTaken
from reconciler.links import where_shared
from reconciler.model import (
    Channel,
    ChannelStatus,
    DesiredChannel,
    DesiredLink,
    DesiredState,
    Link,
    WorkspaceRef,
    WorkspaceState,
    fold,
    link_url,
)
from reconciler.plan import Action, Plan, Resource
from reconciler.render import json as render_json
from reconciler.render import text
from tests.helpers import (
    SandboxFactory,
    assert_valid_plan_json,
    channel,
    dc,
    desired,
    dl,
    link,
    memory_backend,
    seed,
    workspace,
)

A = "acmepets"


class Spy:
    """A real LocalBackend that records every write, and raises ``BackendError`` instead of
    doing the ``fail_on``-th write (1-based), if given."""

    def __init__(self, backend: LocalBackend, *, fail_on: int | None = None) -> None:
        self.backend = backend
        self.fail_on = fail_on
        self.calls: list[tuple[str, ...]] = []
        self.capabilities: Capabilities = backend.capabilities
        self.description = backend.description

    def _write(self, *call: str) -> None:
        self.calls.append(call)
        if len(self.calls) == self.fail_on:
            raise BackendError(f"injected failure on write {self.fail_on}")

    def read(self) -> WorkspaceState:
        return self.backend.read()

    def connect_channel(self, account: str, display_name: str) -> Channel:
        self._write("connect_channel", account)
        return self.backend.connect_channel(account, display_name)

    def workspace(self) -> WorkspaceRef:
        return self.backend.workspace()

    def rename_channel(self, channel_id: str, display_name: str, *, version: int) -> Channel:
        self._write("rename_channel", display_name)
        return self.backend.rename_channel(channel_id, display_name, version=version)

    def remove_channel(self, channel_id: str, *, version: int) -> None:
        self._write("remove_channel", channel_id)
        self.backend.remove_channel(channel_id, version=version)

    def create_link(
        self, channel_id: str, *, title: str, ref: str | None, message: str, key: str
    ) -> Link:
        self._write("create_link", title)
        return self.backend.create_link(channel_id, title=title, ref=ref, message=message, key=key)

    def update_link(
        self,
        channel_id: str,
        link_id: str,
        *,
        title: str,
        ref: str | None,
        message: str,
        version: int,
    ) -> Link:
        self._write("update_link", title)
        return self.backend.update_link(
            channel_id, link_id, title=title, ref=ref, message=message, version=version
        )

    def remove_link(self, channel_id: str, link_id: str, *, version: int) -> None:
        self._write("remove_link", link_id)
        self.backend.remove_link(channel_id, link_id, version=version)

    def close(self) -> None:
        self.backend.close()


def _plan(backend: LocalBackend | Spy, want: DesiredState, **kw: Any) -> Plan:
    plan = planner.build(want, backend.read(), can_connect=True, **kw)
    assert_valid_plan_json(render_json.render_plan(plan))
    return plan


# --- a workspace with one of every change ---------------------------------------------------


def _every_kind(backend: LocalBackend) -> tuple[DesiredState, WorkspaceState]:
    """Seed a workspace so the returned desired state needs every kind of change."""
    actual = seed(
        backend,
        workspace(
            channel(
                A,
                "Acme",
                link(1, "Bio", "Hi", "bio"),
                link(2, "ad summer", "Sale", "fb_ad"),
                link(3, "Old story", "Story time", "story"),
                link(4, "Gone 1", "x"),
                link(5, "Gone 2", "y"),
            ),
            channel("oldbrand", "Old Brand", link(6, "Poster", "QR", account="oldbrand")),
        ),
    )
    want = desired(
        dc(
            A,
            "Acme Pets",
            dl("New story", "Story time", "story"),  # update (rename by content)
            dl("Bio", "Hello", "bio"),  # regenerate
            dl("Fresh", "New!"),  # create
            dl("Ad Summer", "Sale", "fb_ad"),  # update (title case)
            dl("Fresh 2", "New 2"),  # create
        ),
        dc("oldbrand", remove=True),
        dc("newshop", "New Shop", dl("Welcome", "Hi from the new shop")),
    )
    return want, actual


def test_order_connect_rename_create_update_regenerate_remove_links_then_channels() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        spy = Spy(backend)
        plan = _plan(spy, want)
        result = applier.run(plan, spy, allow_removals=True)
        assert result.ok
        assert [call[0] for call in spy.calls] == [
            "connect_channel",
            "rename_channel",
            "create_link",
            "create_link",
            "create_link",
            "update_link",
            "update_link",
            "update_link",
            "remove_link",
            "remove_link",
            "remove_channel",
        ]
        assert spy.calls[:8] == [
            ("connect_channel", "newshop"),
            ("rename_channel", "Acme Pets"),
            ("create_link", "Fresh"),
            ("create_link", "Fresh 2"),
            ("create_link", "Welcome"),
            ("update_link", "New story"),
            ("update_link", "Ad Summer"),
            ("update_link", "Bio"),
        ]
        assert [str(o.change.action) for o in result.done] == [
            "connect",
            "rename",
            "create",
            "create",
            "create",
            "update",
            "update",
            "regenerate",
            "remove",
            "remove",
            "remove",
        ]
        assert planner.build(want, backend.read(), can_connect=True).changes == ()


def test_ordered_is_stable_within_a_kind() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        plan = _plan(backend, want)
        creates = [c.title for c in applier.ordered(plan.changes) if c.action is Action.CREATE]
        assert creates == ["Fresh", "Fresh 2", "Welcome"]


def test_results_carry_the_urls_the_plan_predicted() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        plan = _plan(backend, want)
        result = applier.run(plan, backend, allow_removals=True)
        for outcome in result.done:
            change = outcome.change
            if change.resource is Resource.LINK and change.action is not Action.REMOVE:
                assert change.after is not None
                assert outcome.url == change.after.url  # type: ignore[union-attr]
            else:
                assert outcome.url is None
        welcome = next(o for o in result.done if o.change.title == "Welcome")
        assert welcome.url == "https://tiktok.me/newshop?message=Hi%20from%20the%20new%20shop"


def test_url_changes_list_old_and_new_for_regenerations() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        result = applier.run(_plan(backend, want), backend, allow_removals=True)
        assert result.url_changes == (
            UrlChange(
                A,
                "Bio",
                "TikTok bio",
                f"https://tiktok.me/{A}?ref=bio&message=Hi",
                f"https://tiktok.me/{A}?ref=bio&message=Hello",
            ),
        )
        data = result.to_dict()
        assert data["url_changes"] == [
            {
                "channel": A,
                "title": "Bio",
                "where": "TikTok bio",
                "old_url": f"https://tiktok.me/{A}?ref=bio&message=Hi",
                "new_url": f"https://tiktok.me/{A}?ref=bio&message=Hello",
            }
        ]
        assert data["ok"] is True and data["failed"] is None and data["not_applied"] == []
        assert [c["result_url"] for c in data["applied"] if c["action"] == "regenerate"] == [
            f"https://tiktok.me/{A}?ref=bio&message=Hello"
        ]


def test_on_step_sees_every_outcome_in_order() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        seen: list[Outcome] = []
        result = applier.run(
            _plan(backend, want), backend, allow_removals=True, on_step=seen.append
        )
        assert tuple(seen) == result.done


# --- guards -------------------------------------------------------------------------------


def test_a_plan_with_errors_is_refused_and_nothing_is_written() -> None:
    with memory_backend() as backend:
        seed(
            backend,
            workspace(channel(A, "Acme"), channel("off", "Off", status=ChannelStatus.DISCONNECTED)),
        )
        before = backend.read()
        spy = Spy(backend)
        # The change to acmepets is fine, but the plan as a whole can't be applied.
        plan = _plan(spy, desired(dc(A, "Acme", dl("Bio", "Hi")), dc("off", "Off 2")))
        assert not plan.applicable
        with pytest.raises(PlanError) as info:
            applier.run(plan, spy, allow_removals=True)
        assert str(info.value).startswith(
            "the plan has 1 error and cannot be applied; nothing was changed:\n"
            "  error: channel off is disconnected: its 1 change is blocked."
        )
        assert spy.calls == []
        assert backend.read() == before


def test_removals_are_refused_without_allow_removals() -> None:
    with memory_backend() as backend:
        seed(
            backend,
            workspace(channel(A, "Acme", link(1, "Gone", "x")), channel("old", "Old")),
        )
        before = backend.read()
        spy = Spy(backend)
        plan = _plan(spy, desired(dc(A, "Acme", dl("New", "n")), dc("old", remove=True)))
        assert plan.applicable
        with pytest.raises(PlanError) as info:
            applier.run(plan, spy)
        assert str(info.value) == (
            "the plan removes 2 resources, which cannot be undone:\n"
            f"  - link {A} / Gone\n"
            "  - channel old\n"
            "Re-run with --allow-removals to apply it. Nothing was changed."
        )
        assert spy.calls == []
        assert backend.read() == before


def test_refusals_show_data_without_terminal_sequences() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme", link(1, "Gone\x1b[2J\nnext", "x"))))
        with pytest.raises(PlanError) as info:
            applier.run(_plan(backend, desired(dc(A, "Acme"))), backend)
        assert f"  - link {A} / Gone\\u001b[2J\\nnext\n" in str(info.value)
        assert "\x1b" not in str(info.value)


def test_a_plan_without_removals_needs_no_flag() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme")))
        result = applier.run(_plan(backend, desired(dc(A, "Acme", dl("Bio", "Hi")))), backend)
        assert result.ok
        assert [lk.title for lk in backend.read().channels[0].links] == ["Bio"]


def test_an_empty_plan_does_nothing() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme", link(1, "Bio", "Hi"))))
        spy = Spy(backend)
        result = applier.run(_plan(spy, desired(dc(A, "Acme", dl("Bio", "Hi")))), spy)
        assert result == ApplyResult(())
        assert result.ok and spy.calls == []


def test_forced_plan_past_the_bulk_guard_applies() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme", *(link(i, f"L{i}", "m") for i in range(10)))))
        want = desired(dc(A, "Acme", *(dl(f"L{i}", "new") for i in range(10))))
        with pytest.raises(PlanError) as info:
            applier.run(_plan(backend, want), backend)
        assert str(info.value) == (
            "the plan has 1 error and cannot be applied; nothing was changed:\n"
            f"  error: channel {A}: the plan regenerates 10 and removes 0 of its 10 links (100%, "
            "over the 30% limit). Review it, then plan or apply with --force, or raise "
            "max_change_pct for this channel in the config"
        )
        result = applier.run(_plan(backend, want, force=True), backend)
        assert result.ok and len(result.url_changes) == 10


# --- partial failure ------------------------------------------------------------------------


def test_stops_at_the_first_failure_and_reports_what_was_and_was_not_done() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        spy = Spy(backend, fail_on=4)
        plan = _plan(spy, want)
        steps = applier.ordered(plan.changes)
        result = applier.run(plan, spy, allow_removals=True)
        assert not result.ok
        assert [o.change for o in result.done] == steps[:3]
        assert result.failed == steps[3]
        assert result.not_done == tuple(steps[4:])
        assert result.error == "injected failure on write 4"
        assert len(spy.calls) == 4  # nothing after the failure was attempted
        data = result.to_dict()
        assert data["ok"] is False
        assert data["failed"]["error"] == "injected failure on write 4"
        assert data["failed"]["title"] == "Fresh 2"
        assert len(data["not_applied"]) == len(steps) - 4

        # What was done is in the workspace; the rest is not.
        state = backend.read()
        assert state.channel("newshop") is not None
        acme = state.channel(A)
        assert acme is not None and acme.display_name == "Acme Pets"
        assert [lk.title for lk in acme.links].count("Fresh") == 1
        assert "Fresh 2" not in [lk.title for lk in acme.links]

        # Plan again and apply: it converges.
        replan = _plan(backend, want)
        assert len(replan.changes) == len(steps) - 3
        again = applier.run(replan, backend, allow_removals=True)
        assert again.ok
        assert _plan(backend, want).changes == ()


@pytest.mark.parametrize("fail_on", range(1, 12))
def test_a_failure_at_any_step_leaves_a_workspace_that_converges(fail_on: int) -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        result = applier.run(
            _plan(backend, want), Spy(backend, fail_on=fail_on), allow_removals=True
        )
        assert result.failed is not None and len(result.done) == fail_on - 1
        assert applier.run(_plan(backend, want), backend, allow_removals=True).ok
        assert _plan(backend, want).changes == ()


def test_apply_writes_only_over_the_versions_its_plan_saw() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme", link(1, "Bio", "Hi"), link(2, "Ad", "Sale"))))
        plan = _plan(backend, desired(dc(A, "Acme Pets", dl("Bio", "Mine"), dl("Ad", "Sale 2"))))
        assert [c.version for c in plan.changes] == [1, 1, 1]
        ch = backend.read().channels[0]
        theirs = ch.links[1]  # another apply got there first
        backend.update_link(ch.id, theirs.id, title="Ad", ref=None, message="Theirs", version=1)
        result = applier.run(plan, backend, allow_removals=True)
        assert [str(o.change.action) for o in result.done] == ["rename", "regenerate"]
        assert result.failed is not None and result.failed.title == "Ad"
        assert result.error is not None and "since it was planned" in result.error
        assert [lk.message for lk in backend.read().channels[0].links] == ["Mine", "Theirs"]


def test_a_link_removed_behind_the_plans_back_is_a_failure_not_a_crash() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme", link(1, "Gone", "x"), link(2, "Bio", "Hi"))))
        plan = _plan(backend, desired(dc(A, "Acme", dl("Bio", "Hello"))))
        ch = backend.read().channels[0]
        backend.remove_link(ch.id, ch.links[0].id, version=ch.links[0].version)
        result = applier.run(plan, backend, allow_removals=True)
        assert [str(o.change.action) for o in result.done] == ["regenerate"]
        assert result.failed is not None and result.failed.title == "Gone"
        assert result.error is not None and "does not exist" in result.error


# --- idempotency keys ---------------------------------------------------------------------


def test_idempotency_key_is_stable_within_a_run_and_differs_across_runs() -> None:
    with memory_backend() as backend:
        want, _ = _every_kind(backend)
        first, second = _plan(backend, want), _plan(backend, want)
        keys1 = [idempotency_key(first, c, run="r1") for c in first.changes]
        keys2 = [idempotency_key(second, c, run="r1") for c in second.changes]
        assert keys1 == keys2  # a request retried within one run carries the same key
        assert len(set(keys1)) == len(keys1)  # one per change
        assert all(re.fullmatch(r"[0-9a-f]{32}", k) for k in keys1)
        # another run of the same plan: other keys, so it is never handed the first's link
        others = [idempotency_key(first, c, run="r2") for c in first.changes]
        assert not set(others) & set(keys1)


def test_idempotency_key_differs_when_the_change_differs() -> None:
    actual = workspace(channel(A, "Acme"))
    one = planner.build(desired(dc(A, "Acme", dl("Bio", "Hi"))), actual)
    other = planner.build(desired(dc(A, "Acme", dl("Bio", "Hello"))), actual)
    assert one.state_fingerprint == other.state_fingerprint
    assert idempotency_key(one, one.changes[0], run="r") != idempotency_key(
        other, other.changes[0], run="r"
    )


def test_idempotency_key_differs_when_the_state_differs() -> None:
    want = desired(dc(A, "Acme", dl("Bio", "Hi")))
    one = planner.build(want, workspace(channel(A, "Acme")))
    other = planner.build(want, workspace(channel(A, "Acme", link(1, "Other", "x"))))
    create = next(c for c in other.changes if c.action is Action.CREATE)
    assert one.changes[0] == create
    assert idempotency_key(one, one.changes[0], run="r") != idempotency_key(other, create, run="r")


def test_idempotency_key_ignores_the_accounts_case() -> None:
    plan = planner.build(desired(dc(A, "Acme", dl("Bio", "Hi"))), workspace(channel(A, "Acme")))
    change = plan.changes[0]
    upper = type(change)(
        change.action,
        change.resource,
        A.upper(),
        change.title,
        change.fields,
        change.before,
        change.after,
    )
    assert idempotency_key(plan, change, run="r") == idempotency_key(plan, upper, run="r")


def test_a_link_removed_and_declared_again_is_created_again() -> None:
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme")))
        with_bio = desired(dc(A, "Acme", dl("Bio", "Hi")))
        assert applier.run(_plan(backend, with_bio), backend).ok
        assert applier.run(_plan(backend, desired(dc(A, "Acme"))), backend, allow_removals=True).ok
        # git revert: the config and the workspace are as they were before the first apply.
        result = applier.run(_plan(backend, with_bio), backend)
        assert result.ok
        assert [lk.title for lk in backend.read().channels[0].links] == ["Bio"]


# --- where an old URL may be shared ---------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "ref", "where"),
    [
        ("June Giveaway Bio Link", "bio_link", "TikTok bio"),
        ("Ad - Summer Sale", "fb_ad_may2025", "ads"),
        ("Spring", "spring_promo", "ads"),
        ("Story swipe", None, "stories"),
        ("Event poster", "qr", "print / QR codes"),
        ("Bio and story", None, "TikTok bio, stories"),
        ("Something", None, "wherever it was shared (bio, ads, stories, print)"),
    ],
)
def test_where_shared(title: str, ref: str | None, where: str) -> None:
    assert where_shared(title, ref) == where


# --- the property: plan, apply, plan again shows nothing ------------------------------------

ACCOUNTS = ["acme", "beta.shop", "c_1"]
NAMES = ["Acme", "Beta", "Gamma shop"]
TITLES = ["Bio", "bio", "Ad", "Story", "QR poster", "Sale"]
REFS: list[str | None] = [None, "r1", "r2"]
MESSAGES = ["hi", "Hello", "hi there", "é 😀 & = # % +\nbye"]

spelling = st.builds(
    lambda a, how: {0: a, 1: a.upper(), 2: a.capitalize()}[how],
    st.sampled_from(ACCOUNTS),
    st.integers(0, 2),
)
content = st.tuples(st.sampled_from(TITLES), st.sampled_from(REFS), st.sampled_from(MESSAGES))
connect = st.tuples(st.just("connect"), spelling, st.sampled_from(NAMES))
create = st.tuples(st.just("create"), spelling, content)
operation = st.one_of(
    connect,
    create,
    create,
    st.tuples(st.just("update"), spelling, st.integers(0, 4), content),
    st.tuples(st.just("remove_link"), spelling, st.integers(0, 4)),
    st.tuples(st.just("disconnect"), spelling),
    st.tuples(st.just("remove_channel"), spelling),
)


def _by_hand(backend: LocalBackend, sql: str, *params: object) -> None:
    """Write to the store behind the backend's back. The store refuses a second link with a
    title its channel has; SleekFlow's UI may not, and plans must converge from there too."""
    with backend.store.transaction() as db:
        db.execute(sql, params)


def _run_operations(backend: LocalBackend, operations: list[tuple[Any, ...]]) -> None:
    """Build a workspace from random operations; those that don't apply are skipped."""
    for n, op in enumerate(operations):
        kind, account = op[0], op[1]
        ch = backend.read().channel(account)
        if kind == "connect":
            if ch is None:
                backend.connect_channel(account, op[2])
        elif ch is None:
            continue
        elif kind == "create":
            title, ref, message = op[2]
            try:
                backend.create_link(ch.id, title=title, ref=ref, message=message, key=f"op-{n}")
            except TitleTaken:
                url = link_url(ch.account, ref, message)
                _by_hand(
                    backend,
                    "INSERT INTO links (channel_id, title, title_key, ref, message, url, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '', '')",
                    int(ch.id), title, fold(title), ref, message, url,
                )  # fmt: skip
        elif kind == "update" and ch.links:
            title, ref, message = op[3]
            target = ch.links[op[2] % len(ch.links)]
            try:
                backend.update_link(
                    ch.id, target.id, title=title, ref=ref, message=message, version=target.version
                )
            except TitleTaken:
                url = link_url(ch.account, ref, message)
                _by_hand(
                    backend,
                    "UPDATE links SET title = ?, title_key = ?, ref = ?, message = ?, url = ? "
                    "WHERE id = ?",
                    title, fold(title), ref, message, url, int(target.id),
                )  # fmt: skip
        elif kind == "remove_link" and ch.links:
            gone = ch.links[op[2] % len(ch.links)]
            backend.remove_link(ch.id, gone.id, version=gone.version)
        elif kind == "disconnect":
            StoreApi(backend).set_status(account, ChannelStatus.DISCONNECTED)
        elif kind == "remove_channel":
            backend.remove_channel(ch.id, version=ch.version)


desired_channel = st.builds(
    lambda account, name, remove, protect, links: DesiredChannel(
        account=account,
        display_name=None if remove else name,
        links=() if remove else tuple(DesiredLink(t, m, r) for t, r, m in links),
        protect=protect,
        remove=remove,
    ),
    spelling,
    st.sampled_from(NAMES),
    st.sampled_from([False, False, False, True]),  # remove: true now and then
    st.sampled_from([False, False, False, True]),  # protect likewise
    st.lists(content, max_size=5, unique_by=lambda c: fold(c[0])),
)
desired_states = st.builds(
    lambda channels: DesiredState(tuple(channels)),
    st.lists(desired_channel, max_size=3, unique_by=lambda c: fold(c.account)),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    # Channels first, so most operations find one to work on.
    operations=st.builds(
        lambda *parts: [op for part in parts for op in part],
        st.lists(connect, max_size=3),
        st.lists(create, max_size=8),
        st.lists(operation, max_size=10),
    ),
    want=desired_states,
)
def test_plan_apply_plan_converges(operations: list[tuple[Any, ...]], want: DesiredState) -> None:
    with memory_backend() as backend:
        _run_operations(backend, operations)
        before = backend.read()
        plan = planner.build(want, before, can_connect=True, force=True)
        assert_valid_plan_json(render_json.render_plan(plan))
        if not plan.applicable:
            assert {d.code for d in plan.errors} <= {"channel-disconnected", "protected-channel"}
            with pytest.raises(PlanError):
                applier.run(plan, backend, allow_removals=True)
            assert backend.read() == before
            return
        result = applier.run(plan, backend, allow_removals=True)
        assert result.ok, result.error
        after = backend.read()
        again = planner.build(want, after, can_connect=True)
        assert again.changes == (), again.to_dict()
        assert again.applicable
        # Unmanaged channels are untouched; declared links have the URL of the rule.
        declared = {fold(c.account) for c in want.channels}
        assert [c for c in after.channels if fold(c.account) not in declared] == [
            c for c in before.channels if fold(c.account) not in declared
        ]
        for ch in after.channels:
            for lk in ch.links:
                assert lk.url == link_url(ch.account, lk.ref, lk.message)
        for outcome in result.done:
            if outcome.url is not None:
                assert outcome.url == outcome.change.after.url  # type: ignore[union-attr]


# --- concurrency ---------------------------------------------------------------------------


class Concurrent:
    """A real LocalBackend shared across threads: counts how many writes are in flight at
    once (each holds for a moment), and fails the create of one title."""

    capabilities = Capabilities(can_connect=True, parallel_writes=True)

    def __init__(self, inner: LocalBackend, fail_title: str | None = None) -> None:
        import threading

        self.inner = inner
        self.fail_title = fail_title
        self.lock = threading.Lock()
        self.db_lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.started: list[str] = []
        #: How many steps had started when the failing one raised.
        self.started_at_failure: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_link(self, channel_id: str, **kw: Any) -> Any:
        import time

        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.started.append(kw["title"])
        try:
            time.sleep(0.01)
            if kw["title"] == self.fail_title:
                with self.lock:
                    self.started_at_failure = len(self.started)
                raise BackendError(f"create link {kw['title']!r}: HTTP 500")
            with self.db_lock:
                return self.inner.create_link(channel_id, **kw)
        finally:
            with self.lock:
                self.in_flight -= 1


def _many_links(n: int) -> DesiredState:
    links = tuple(DesiredLink(title=f"L{i:03}", message=f"m{i}") for i in range(n))
    return DesiredState((DesiredChannel("acme", "Acme", links=links),))


def _shared_backend() -> LocalBackend:
    import sqlite3

    backend = LocalBackend(connection=sqlite3.connect(":memory:", check_same_thread=False))
    backend.connect_channel("acme", "Acme")
    return backend


def test_independent_creates_run_at_most_concurrency_at_once() -> None:
    backend = Concurrent(_shared_backend())
    want = _many_links(40)
    plan = planner.build(want, backend.read(), can_connect=True)
    result = applier.run(plan, backend, concurrency=4)
    assert result.ok
    assert 2 <= backend.peak <= 4
    # The report lists steps in plan order, whatever order they finished in.
    assert [o.change.title for o in result.done] == [f"L{i:03}" for i in range(40)]
    assert planner.build(want, backend.read(), can_connect=True).changes == ()


def test_after_a_failure_no_new_step_starts_and_the_rest_is_reported() -> None:
    backend = Concurrent(_shared_backend(), fail_title="L005")
    plan = planner.build(_many_links(40), backend.read(), can_connect=True)
    result = applier.run(plan, backend, concurrency=4)
    assert not result.ok
    assert result.failed is not None and result.failed.title == "L005"
    assert "HTTP 500" in (result.error or "")
    # Between the failure and the moment apply sees it, only the steps still running can
    # finish and hand their place on: at most concurrency - 1 starts after the failure.
    assert backend.started_at_failure is not None
    assert len(backend.started) - backend.started_at_failure <= 4 - 1
    created = {lk.title for lk in backend.read().channels[0].links}
    assert created == {o.change.title for o in result.done}
    assert len(result.done) + len(result.not_done) + 1 == 40


# --- interrupted (Ctrl-C) -------------------------------------------------------------------


class Interrupting(Spy):
    """A Spy that receives SIGINT (Ctrl-C) as its ``at``-th write starts, as a user
    pressing it while that change is under way."""

    def __init__(self, backend: Any, *, at: int) -> None:
        super().__init__(backend)
        self.at = at

    def _write(self, *call: str) -> None:
        super()._write(*call)
        if len(self.calls) == self.at:
            # Before the write, to the process as a terminal sends it: Python runs the
            # handler (KeyboardInterrupt) in the main thread, at once when this is it (the
            # change is not made), else while a worker goes on (the change is made).
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_an_apply_reports_what_was_done_and_what_was_not() -> None:
    """Ctrl-C mid-apply printed only "interrupted": which links were made, and which old URLs
    to replace, was lost. The run stops, and the report says what was done, the change under
    way (made or not: a plan says), and what was not started."""
    with memory_backend() as backend:
        seed(backend, workspace(channel(A, "Acme")))
        want = desired(dc(A, "Acme", *(dl(f"L{i}", f"m{i}") for i in range(5))))
        spy = Interrupting(backend, at=3)
        result = applier.run(_plan(spy, want), spy)
        assert not result.ok
        assert [o.change.title for o in result.done] == ["L0", "L1"]
        assert result.failed is not None and result.failed.title == "L2"
        assert result.error is not None and "interrupted (Ctrl-C)" in result.error
        assert [c.title for c in result.not_done] == ["L3", "L4"]
        assert "FAILED: create acmepets: L2" in text.render_apply(result)
        again = applier.run(_plan(backend, want), backend)  # converges (L2 was not made)
        assert [o.change.title for o in again.done] == ["L2", "L3", "L4"]


def test_ctrl_c_during_a_parallel_apply_lets_the_steps_under_way_finish(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    LocalBackend(store).connect_channel(A, "Acme")
    server = sandbox("--latency-ms", "20", store=store)
    http = HttpBackend(server.url, None, concurrency=4)
    spy = Interrupting(http, at=3)
    spy.capabilities = http.capabilities
    want = desired(dc(A, "Acme", *(dl(f"L{i:02d}", f"m{i}") for i in range(30))))
    result = applier.run(_plan(spy, want), spy, concurrency=4)
    http.close()
    assert not result.ok
    assert result.error is not None and "interrupted (Ctrl-C)" in result.error
    made = {lk.title for lk in LocalBackend(store).read().channels[0].links}
    assert made == {o.change.title for o in result.done}  # every step under way finished
    assert 3 <= len(made) < 30
    assert len(result.done) + 1 + len(result.not_done) == 30
