"""The sandbox's token bucket as the IETF RateLimit headers state it (docs/api.md), over real
HTTP: on every answer with ``--rate-limit``, on none with ``--no-rate-limit-headers``; and
the fault setting that switches them."""

from __future__ import annotations

import re

import pytest

from reconciler.sandbox.app import CONTROL_PATH
from reconciler.sandbox.faults import FaultConfig
from tests.helpers import SandboxFactory

POLICY = re.compile(r'"sandbox";q=([0-9]+);w=([0-9]+)')
STATE = re.compile(r'"sandbox";r=([0-9]+);t=([0-9]+)')


def test_every_answer_states_the_bucket(sandbox: SandboxFactory) -> None:
    server = sandbox("--rate-limit", "3")
    with server.client() as client:
        answers = [client.get("/v1/tiktok/channels") for _ in range(5)]
        missing = client.get("/v1/nothing")
    left = []
    for response in [*answers, missing]:
        policy = POLICY.fullmatch(response.headers["ratelimit-policy"])
        state = STATE.fullmatch(response.headers["ratelimit"])
        assert policy is not None and state is not None, response.headers
        assert policy.groups() == ("3", "1")
        left.append(int(state.group(1)))
        assert 0 <= int(state.group(2)) <= 1  # seconds until the bucket is full again
    statuses = [r.status_code for r in answers]
    assert statuses[:3] == [200] * 3 and 429 in statuses[3:]
    assert left[:3] == [2, 1, 0]  # what is left after each request
    assert missing.status_code == 404


def test_a_slow_bucket_states_a_longer_window(sandbox: SandboxFactory) -> None:
    server = sandbox("--rate-limit", "0.25")
    with server.client() as client:
        first, second = client.get("/v1/tiktok/channels"), client.get("/v1/tiktok/channels")
    assert first.status_code == 200 and second.status_code == 429
    assert first.headers["ratelimit-policy"] == '"sandbox";q=1;w=4'
    assert first.headers["ratelimit"] == '"sandbox";r=0;t=4'


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(("--rate-limit", "5", "--no-rate-limit-headers"), id="told-not-to"),
        pytest.param((), id="no-rate-limit"),
    ],
)
def test_no_headers_without_a_limit_or_when_told_not_to(
    sandbox: SandboxFactory, flags: tuple[str, ...]
) -> None:
    server = sandbox(*flags)
    with server.client() as client:
        answers = [client.get("/v1/tiktok/channels") for _ in range(7)]
    if flags:
        assert [r.status_code for r in answers].count(429) >= 1  # the limit holds all the same
    for response in answers:
        assert "ratelimit" not in response.headers
        assert "ratelimit-policy" not in response.headers


def test_the_control_switches_the_headers(sandbox: SandboxFactory) -> None:
    server = sandbox("--control")
    with server.client() as client:
        off = client.post(CONTROL_PATH, json={"rate_limit": 100, "rate_limit_headers": False})
        assert off.status_code == 200 and off.json()["faults"]["rate_limit_headers"] is False
        assert "ratelimit" not in client.get("/v1/tiktok/channels").headers
        on = client.post(CONTROL_PATH, json={"rate_limit": 100})
        assert on.json()["faults"]["rate_limit_headers"] is True
        assert POLICY.fullmatch(client.get("/v1/tiktok/channels").headers["ratelimit-policy"])
        bad = client.post(CONTROL_PATH, json={"rate_limit_headers": 1})
        assert bad.status_code == 422
        assert "rate_limit_headers must be true or false" in bad.text


def test_the_setting_is_a_boolean() -> None:
    assert FaultConfig.from_dict({"rate_limit_headers": False}).rate_limit_headers is False
    with pytest.raises(ValueError, match="rate_limit_headers must be true or false"):
        FaultConfig.from_dict({"rate_limit_headers": "no"})
