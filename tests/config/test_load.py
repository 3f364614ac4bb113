"""The public API of ``reconciler.config``: ``load``, ``check`` and what they return."""

from __future__ import annotations

import hashlib

import pytest

from reconciler import config
from reconciler.errors import ConfigError, Problem
from reconciler.model import DesiredChannel, DesiredLink
from tests.helpers import CHANNEL, EXAMPLE, TEN_MISTAKES


def test_example_loads_into_desired_state() -> None:
    state = config.load(EXAMPLE)
    accounts = [c.account for c in state.channels]
    assert accounts == ["acmepets", "acmepets.global"]
    first = state.channels[0]
    assert first.protect is True
    assert first.links[1] == DesiredLink(
        title="June Giveaway Bio Link",
        ref="bio_link",
        message="Hi! I'd like to join the June giveaway.",
    )


def test_minimal_config() -> None:
    state, problems = config.check("version: 1\nchannels: []\n", "w.yaml")
    assert problems == []
    assert state is not None and state.channels == ()


def test_removed_channel_needs_no_display_name() -> None:
    state, problems = config.check(
        "version: 1\nchannels:\n  - account: oldbrand\n    remove: true\n", "w"
    )
    assert problems == []
    assert state is not None
    assert state.channels == (DesiredChannel(account="oldbrand", remove=True),)


def test_load_raises_one_error_with_all_problems(write) -> None:
    path = write(TEN_MISTAKES)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert len(info.value.problems) == 11
    assert str(info.value).splitlines()[0].startswith(f"{path}:3:14: ")
    assert str(info.value).splitlines()[-1] == "11 errors found"


def test_remove_true_without_display_name_or_links_loads() -> None:
    state = config.check("version: 1\nchannels:\n  - {account: old, remove: true}\n", "w")[0]
    assert state is not None
    assert state.channels[0].remove is True
    assert state.channels[0].display_name is None


def test_defaults_and_explicit_values_reach_the_desired_state() -> None:
    text = CHANNEL + "    max_change_pct: 12.5\n    protect: false\n"
    state, problems = config.check(text, "w")
    assert problems == []
    assert state is not None
    assert state.channels[0].max_change_pct == 12.5
    assert state.channels[0].protect is False
    default = config.check(CHANNEL, "w")[0]
    assert default is not None and default.channels[0].max_change_pct == 30.0


def test_check_never_returns_state_with_errors_and_sorts_problems() -> None:
    state, problems = config.check(TEN_MISTAKES, "w")
    assert state is None
    assert problems == sorted(problems, key=Problem.sort_key)


def test_check_is_deterministic() -> None:
    first = config.check(TEN_MISTAKES, "w")[1]
    second = config.check(TEN_MISTAKES, "w")[1]
    assert first == second


def test_load_with_digest_hashes_the_bytes_it_read() -> None:
    state, digest = config.load_with_digest(EXAMPLE)
    assert state == config.load(EXAMPLE)
    assert digest == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
