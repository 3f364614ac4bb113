"""SleekFlow's side simulated on the local workspace: the OAuth connect and a token expiry
(``reconciler.sandbox.accounts``), on a real SQLite file in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.backends.local import LocalBackend
from reconciler.errors import BackendError, InvalidInput
from reconciler.model import ChannelStatus
from reconciler.sandbox.accounts import Outcome, connect, disconnect


def test_a_disconnected_channel_reconnects_with_its_id_and_links(backend: LocalBackend) -> None:
    channel = backend.connect_channel("acmepets", "Acme Pets (US)")
    link = backend.create_link(channel.id, title="Bio", ref="bio", message="Hi", key="k")
    down = disconnect(backend, "AcmePets")
    assert down.status is ChannelStatus.DISCONNECTED
    assert backend.read().channels[0].status is ChannelStatus.DISCONNECTED

    up = connect(backend, "acmepets", None)
    assert up.outcome is Outcome.RECONNECTED
    assert (up.channel.id, up.channel.status, up.channel.display_name) == (
        channel.id,
        ChannelStatus.CONNECTED,
        "Acme Pets (US)",  # None keeps the name it had
    )
    assert up.channel.links == (link,)

    disconnect(backend, "acmepets")
    renamed = connect(backend, "acmepets", "Acme Pets")
    assert renamed.channel.display_name == "Acme Pets"


def test_a_new_channel_without_a_name_is_named_after_its_account(backend: LocalBackend) -> None:
    done = connect(backend, "acmepets", None)
    assert (done.outcome, done.channel.display_name) == (Outcome.CONNECTED, "acmepets")


def test_connecting_a_connected_channel_does_nothing(backend: LocalBackend) -> None:
    connect(backend, "acmepets", "Acme")
    before = backend.read()
    again = connect(backend, "ACMEPETS", "Another name")
    assert again.outcome is Outcome.ALREADY_CONNECTED
    assert again.channel.account == "acmepets" and again.channel.display_name == "Acme"
    assert backend.read() == before


@pytest.mark.parametrize(
    ("account", "name", "field"),
    [
        ("no spaces", None, "account"),
        ("ends.", None, "account"),
        ("acme\n", None, "account"),
        ("acmepets", " ", "display_name"),
        ("acmepets", "n" * 101, "display_name"),
        ("acmepets", "Acme\x1b[2J", "display_name"),
        ("acmepets", "Acme\x00", "display_name"),
    ],
)
def test_a_bad_account_or_name_is_refused_before_the_store_is_touched(
    store: Path, backend: LocalBackend, account: str, name: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        connect(backend, account, name)
    assert info.value.field == field
    assert not store.exists()


def test_disconnecting_checks_the_account_and_creates_nothing(
    store: Path, backend: LocalBackend
) -> None:
    with pytest.raises(InvalidInput, match="is not a TikTok username"):
        disconnect(backend, "not valid")
    with pytest.raises(BackendError, match="no channel ghost"):
        disconnect(backend, "ghost")
    assert not store.exists()
