"""``plan.fingerprint``: the declared part of a workspace, and a hash that moves with it."""

from __future__ import annotations

from dataclasses import replace

from reconciler.model import ChannelStatus, Link
from reconciler.plan.fingerprint import declared_state, fingerprint
from tests.helpers import channel, dc, desired, dl, link, workspace

WANT = desired(dc("AcmePets", "Acme", dl("Bio", "Hi")), dc("newbrand", "New"))


def test_the_declared_state_holds_the_declared_channels_only() -> None:
    actual = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi")), channel("other"))
    state = declared_state(WANT, actual)
    assert set(state) == {"acmepets", "newbrand"}  # folded accounts; "other" is not declared
    assert state["newbrand"] is None  # declared, not connected
    assert state["acmepets"]["version"] == 1
    assert state["acmepets"]["links"] == {
        "1": {
            "title": "Bio",
            "ref": None,
            "message": "Hi",
            "url": link(1, "Bio", "Hi").url,
            "version": 1,
        }
    }


def test_an_undeclared_channel_does_not_move_the_fingerprint() -> None:
    before = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi")))
    after = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi")), channel("zoo"))
    assert fingerprint(declared_state(WANT, before)) == fingerprint(declared_state(WANT, after))


def test_every_declared_field_moves_the_fingerprint() -> None:
    base = workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi")))
    moved = [
        workspace(channel("acmepets", "Acme 2", link(1, "Bio", "Hi"))),
        workspace(channel("acmepets", "Acme", link(1, "Bio", "Hello"))),
        workspace(channel("acmepets", "Acme", link(1, "bio", "Hi"))),
        workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi", "r"))),
        workspace(channel("acmepets", "Acme", link(2, "Bio", "Hi"))),
        workspace(
            channel("acmepets", "Acme", link(1, "Bio", "Hi"), status=ChannelStatus.DISCONNECTED)
        ),
        workspace(),
        # a version moves with any write, even one that put the same values back
        workspace(channel("acmepets", "Acme", link(1, "Bio", "Hi")._replace(version=2))),
        workspace(replace(channel("acmepets", "Acme", link(1, "Bio", "Hi")), version=2)),
    ]
    prints = {fingerprint(declared_state(WANT, state)) for state in [base, *moved]}
    assert len(prints) == len(moved) + 1


def test_a_lone_surrogate_from_an_api_is_hashed_not_a_crash() -> None:
    odd_link = Link("1", "Bio", None, "Hi \ud800", "https://tiktok.me/acmepets?message=Hi", seq=1)
    odd = workspace(channel("acmepets", "Acme", odd_link))
    assert len(fingerprint(declared_state(WANT, odd))) == 64
