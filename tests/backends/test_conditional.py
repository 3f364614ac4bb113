"""Conditional writes, through both backends: every channel and link has a version, each write
moves the version of what it wrote, and a write over a version that moved is refused with
nothing changed. The same tests run on a local store and over HTTP against the real sandbox
process serving that store; ``httpx.MockTransport`` only for the retry the sandbox can't be
made to give on purpose."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.backends.base import Backend
from reconciler.backends.http import HttpBackend, RetryPolicy
from reconciler.backends.local import LocalBackend
from reconciler.errors import BackendError, WorkspaceChanged
from reconciler.model import Channel, Link, link_url
from tests.helpers import SandboxFactory

FAST = RetryPolicy(attempts=3, deadline=10.0, wait_initial=0.001, wait_max=0.01, wait_jitter=0.0)
ACCOUNT = "acmepets"


def _connect(store: Path) -> Channel:
    local = LocalBackend(store)
    try:
        return local.connect_channel(ACCOUNT, "Acme")
    finally:
        local.close()


def _connect_with_link(store: Path) -> tuple[Channel, Link]:
    """The channel ``_connect`` makes, with one link "Bio" (message "Hi")."""
    channel = _connect(store)
    local = LocalBackend(store)
    try:
        return channel, local.create_link(channel.id, title="Bio", ref=None, message="Hi", key="k")
    finally:
        local.close()


def _state(store: Path) -> Channel:
    local = LocalBackend(store)
    try:
        (channel,) = local.read().channels
    finally:
        local.close()
    return channel


@pytest.fixture(params=["local", "http"])
def open_backend(
    request: pytest.FixtureRequest, tmp_path: Path, sandbox: SandboxFactory
) -> tuple[Callable[[], AbstractContextManager[Backend]], Path]:
    """``(open, store)``: ``with open() as backend`` is a new backend on ``store`` (the local
    store itself, or a sandbox serving it), closed after the block. A local backend's
    connection belongs to its thread: a racing thread opens its own."""
    store = tmp_path / "ws.db"
    url = sandbox(store=store).url if request.param == "http" else None

    @contextmanager
    def open_one() -> Iterator[Backend]:
        backend: Backend = (
            LocalBackend(store) if url is None else HttpBackend(url, None, policy=FAST)
        )
        try:
            yield backend
        finally:
            backend.close()

    return open_one, store


#: The ``open_backend`` fixture's value.
Opener = tuple[Callable[[], AbstractContextManager[Backend]], Path]


# --- versions -------------------------------------------------------------------------------


def test_every_write_moves_the_version_of_what_it_wrote(open_backend: Opener) -> None:
    open_one, store = open_backend
    channel = _connect(store)
    assert channel.version == 1
    with open_one() as backend:
        link = backend.create_link(channel.id, title="Bio", ref="bio", message="Hi", key="k1")
        other = backend.create_link(channel.id, title="Ad", ref=None, message="Sale", key="k2")
        assert (link.version, other.version) == (1, 1)

        regenerated = backend.update_link(
            channel.id, link.id, title="Bio", ref="bio", message="Hello", version=1
        )
        assert (regenerated.version, regenerated.url) == (2, link_url(ACCOUNT, "bio", "Hello"))
        renamed = backend.update_link(
            channel.id, link.id, title="Bio link", ref="bio", message="Hello", version=2
        )
        assert renamed.version == 3
        same = backend.update_link(
            channel.id, link.id, title="Bio link", ref="bio", message="Hello", version=3
        )
        assert same.version == 3  # the values it has: nothing written, nothing moved

        read = backend.read().channels[0]
        assert [(lk.title, lk.version) for lk in read.links] == [("Bio link", 3), ("Ad", 1)]
        assert read.version == 1  # a channel's version is its own, not its links'
        assert backend.rename_channel(channel.id, "Acme Pets", version=1).version == 2
        assert backend.rename_channel(channel.id, "Acme Pets", version=2).version == 2
        assert backend.read().channels[0].version == 2
        backend.remove_link(channel.id, other.id, version=1)
        backend.remove_channel(channel.id, version=2)
        assert backend.read().channels == ()


def test_a_write_over_a_moved_version_is_refused_and_changes_nothing(open_backend: Opener) -> None:
    open_one, store = open_backend
    channel = _connect(store)
    with open_one() as backend:
        link = backend.create_link(channel.id, title="Bio", ref="bio", message="Hi", key="k1")
        backend.update_link(channel.id, link.id, title="Bio", ref="bio", message="Moved", version=1)
        backend.rename_channel(channel.id, "Moved too", version=1)
        before = store.read_bytes()
        for write in (
            lambda: backend.rename_channel(channel.id, "Mine", version=1),
            lambda: backend.remove_channel(channel.id, version=1),
            lambda: backend.update_link(
                channel.id, link.id, title="Bio", ref="bio", message="Mine", version=1
            ),
            lambda: backend.update_link(
                channel.id, link.id, title="Bio", ref="bio", message="Moved", version=1
            ),
            lambda: backend.remove_link(channel.id, link.id, version=1),
        ):
            with pytest.raises(WorkspaceChanged, match="since it was planned"):
                write()
            assert store.read_bytes() == before
        state = _state(store)
        assert (state.display_name, state.version) == ("Moved too", 2)
        assert [(lk.message, lk.version) for lk in state.links] == [("Moved", 2)]


def test_the_refusal_names_the_resource_and_both_versions(tmp_path: Path) -> None:
    store = tmp_path / "ws.db"
    channel = _connect(store)
    backend = LocalBackend(store)
    link = backend.create_link(channel.id, title="VIP Program", ref=None, message="a", key="k")
    backend.update_link(channel.id, link.id, title="VIP Program", ref=None, message="b", version=1)
    with pytest.raises(WorkspaceChanged) as caught:
        backend.remove_link(channel.id, link.id, version=1)
    assert str(caught.value) == (
        f"link 'VIP Program' (id {link.id}) changed in local workspace {store} since it was "
        "planned (version 2, planned against 1)"
    )
    assert (caught.value.current, caught.value.given) == (2, 1)
    with pytest.raises(WorkspaceChanged, match=rf"^channel acmepets \(id {channel.id}\) changed"):
        backend.rename_channel(channel.id, "x", version=7)
    backend.close()


def test_a_missing_resource_is_still_a_backend_error_not_a_change(open_backend: Opener) -> None:
    open_one, store = open_backend
    channel = _connect(store)
    with open_one() as backend:
        for write in (
            lambda: backend.rename_channel("999", "x", version=1),
            lambda: backend.remove_channel("999", version=1),
            lambda: backend.update_link(
                channel.id, "999", title="t", ref=None, message="m", version=1
            ),
            lambda: backend.remove_link(channel.id, "999", version=1),
        ):
            with pytest.raises(BackendError) as caught:
                write()
            assert not isinstance(caught.value, WorkspaceChanged)


# --- races ----------------------------------------------------------------------------------


def _race(
    open_one: Callable[[], AbstractContextManager[Backend]],
    writes: list[Callable[[Backend], object]],
) -> list[BaseException | None]:
    """Each of ``writes`` with a backend of its own, in a thread of its own, all released
    together once open; each one's exception, or None."""
    results: list[BaseException | None] = [None] * len(writes)
    start = threading.Barrier(len(writes))

    def run(index: int) -> None:
        with open_one() as backend:
            start.wait()
            try:
                writes[index](backend)
            except BaseException as exc:  # reported to the caller, not swallowed
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_writes_from_one_version_never_both_succeed(open_backend: Opener) -> None:
    open_one, store = open_backend
    channel = _connect(store)
    messages = ("from x", "from y")
    for trial in range(8):
        with open_one() as backend:
            link = backend.create_link(
                channel.id, title=f"T{trial}", ref=None, message="base", key=f"k{trial}"
            )

        def edit(message: str, link: Link = link) -> Callable[[Backend], Link]:
            return lambda backend: backend.update_link(
                channel.id, link.id, title=link.title, ref=None, message=message, version=1
            )

        results = _race(open_one, [edit(message) for message in messages])
        winners = [m for m, r in zip(messages, results, strict=True) if r is None]
        assert len(winners) == 1, results
        loser = next(r for r in results if r is not None)
        assert isinstance(loser, WorkspaceChanged)
        stored = next(lk for lk in _state(store).links if lk.id == link.id)
        assert (stored.message, stored.version) == (winners[0], 2)


def test_writes_to_different_links_of_a_channel_do_not_conflict(open_backend: Opener) -> None:
    open_one, store = open_backend
    channel = _connect(store)
    with open_one() as backend:
        a = backend.create_link(channel.id, title="A", ref=None, message="a", key="ka")
        b = backend.create_link(channel.id, title="B", ref=None, message="b", key="kb")
    results = _race(
        open_one,
        [
            lambda backend: backend.update_link(
                channel.id, a.id, title="A", ref=None, message="a2", version=1
            ),
            lambda backend: backend.update_link(
                channel.id, b.id, title="B", ref=None, message="b2", version=1
            ),
            lambda backend: backend.rename_channel(channel.id, "Renamed", version=1),
        ],
    )
    assert results == [None, None, None]
    state = _state(store)
    assert [(lk.message, lk.version) for lk in state.links] == [("a2", 2), ("b2", 2)]
    assert (state.display_name, state.version) == ("Renamed", 2)


# --- workspace identity ---------------------------------------------------------------------


def test_the_local_workspace_is_its_path_and_its_id(tmp_path: Path) -> None:
    store = tmp_path / "not" / "yet" / "ws.db"
    backend = LocalBackend(store)
    ref = backend.workspace()
    assert (ref.backend, ref.location, ref.id) == ("local", str(store.resolve()), None)
    assert not (tmp_path / "not").exists()  # asking created nothing
    backend.connect_channel(ACCOUNT, "Acme")
    ident = backend.workspace().id
    assert ident is not None and len(ident) == 32 and int(ident, 16) >= 0
    backend.close()
    again = LocalBackend(store)
    assert again.workspace().id == ident  # the store's own, not the process's
    again.close()
    copy = tmp_path / "copy.db"
    shutil.copyfile(store, copy)
    copied = LocalBackend(copy).workspace()
    assert copied.id == ident and copied.location != str(store.resolve())
    other = LocalBackend(tmp_path / "other.db")
    other.connect_channel(ACCOUNT, "Acme")
    assert other.workspace().id not in (None, ident)
    other.close()


def test_the_http_workspace_is_the_url_and_the_apis_id(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    _connect(store)
    server = sandbox(store=store)
    backend = HttpBackend(server.url + "/", None, policy=FAST)
    ref = backend.workspace()
    assert (ref.backend, ref.location) == ("http", server.url)
    assert ref.id == LocalBackend(store).workspace().id
    backend.close()


def test_the_http_workspace_is_asked_once_and_its_url_shows_no_credentials() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={"id": "w-1"})

    backend = HttpBackend(
        "https://user:secret@api.test/", None, transport=httpx.MockTransport(handler), policy=FAST
    )
    assert backend.workspace() == backend.workspace()
    assert paths == ["/v1/workspace"]
    assert backend.workspace().location == "https://api.test"
    assert "secret" not in str(backend.workspace())


@pytest.mark.parametrize("body", [{}, {"id": ""}, {"id": 7}, {"id": "a\nb"}, [], {"id": "x" * 201}])
def test_a_workspace_id_of_the_wrong_shape_is_a_backend_error(body: Any) -> None:
    backend = HttpBackend(
        "https://api.test",
        None,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=body)),
        policy=FAST,
    )
    with pytest.raises(BackendError, match="read the workspace id: unexpected data"):
        backend.workspace()


# --- over HTTP: If-Match, 412, and a retry that meets its own write ----------------------------


def test_conditional_writes_send_if_match_and_a_412_is_not_retried() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.headers.get("If-Match")))
        return httpx.Response(
            412,
            json={"type": "https://reconciler.dev/problems/precondition-failed", "detail": "moved"},
        )

    retries: list[object] = []
    backend = HttpBackend(
        "https://api.test",
        None,
        transport=httpx.MockTransport(handler),
        on_retry=lambda *args: retries.append(args),
    )
    for write in (
        lambda: backend.rename_channel("1", "x", version=4),
        lambda: backend.remove_channel("1", version=5),
        lambda: backend.update_link("1", "2", title="t", ref=None, message="m", version=6),
        lambda: backend.remove_link("1", "2", version=7),
    ):
        with pytest.raises(
            WorkspaceChanged, match=r"changed in the workspace since it was planned"
        ):
            write()
    assert seen == [("PATCH", '"4"'), ("DELETE", '"5"'), ("PATCH", '"6"'), ("DELETE", '"7"')]
    assert retries == []


def test_a_patch_whose_answer_was_lost_is_done_when_its_retry_meets_412(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    channel, link = _connect_with_link(store)
    retries: list[tuple[str, int, str]] = []
    server = sandbox("--drop-after-commit-rate", "1")  # every answer to a write is lost
    backend = HttpBackend(
        server.url, None, policy=FAST, on_retry=lambda *args: retries.append(args)
    )
    edited = backend.update_link(
        channel.id, link.id, title="Bio", ref="new", message="Hello", version=1
    )
    assert (edited.version, edited.url) == (2, link_url(ACCOUNT, "new", "Hello"))
    renamed = backend.rename_channel(channel.id, "Acme Pets", version=1)
    assert (renamed.display_name, renamed.version) == ("Acme Pets", 2)
    backend.close()
    assert [what for what, _, _ in retries] == ["update link 'Bio'", f"rename channel {channel.id}"]
    state = _state(store)
    assert (state.display_name, state.version) == ("Acme Pets", 2)
    assert [(lk.message, lk.version) for lk in state.links] == [("Hello", 2)]  # written once


def test_a_retried_patch_that_finds_other_values_is_a_change_not_done() -> None:
    # A first attempt lost on the way (nothing done), and meanwhile another client's write:
    # the retry meets 412, reads the link back, and finds values that are not the ones sent.
    answers: list[httpx.Response | None] = [
        None,  # the connection dropped
        httpx.Response(412, json={"detail": "at version 2"}),
        httpx.Response(200, json=_link_json(message="theirs", version=2)),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if answer is None:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return answer

    backend = HttpBackend(
        "https://api.test", None, transport=httpx.MockTransport(handler), policy=FAST
    )
    with pytest.raises(WorkspaceChanged) as caught:
        backend.update_link("1", "7", title="T", ref=None, message="mine", version=1)
    assert str(caught.value) == (
        "update link 'T': changed in the workspace since it was planned "
        "(version 2, planned against 1)"
    )
    assert answers == []


def _link_json(*, message: str, version: int) -> dict[str, Any]:
    return {
        "id": "7", "channel_id": "1", "title": "T", "ref": None, "message": message,
        "url": link_url("a", None, message), "created_at": "x", "updated_at": "x",
        "version": version,
    }  # fmt: skip


def test_a_link_without_a_version_from_the_api_is_unexpected_data() -> None:
    body = _link_json(message="m", version=1)
    for bad in (None, "1", 0, True, 1.0):
        answer = body | {"version": bad}
        backend = HttpBackend(
            "https://api.test",
            None,
            transport=httpx.MockTransport(lambda request, a=answer: httpx.Response(201, json=a)),
            policy=FAST,
        )
        with pytest.raises(BackendError, match="unexpected data from the server"):
            backend.create_link("1", title="T", ref=None, message="m", key="k")


def test_a_link_read_over_http_carries_the_stored_versions(
    sandbox: SandboxFactory, tmp_path: Path
) -> None:
    store = tmp_path / "ws.db"
    channel, link = _connect_with_link(store)
    local = LocalBackend(store)
    local.update_link(channel.id, link.id, title="Bio", ref=None, message="Hey", version=1)
    local.rename_channel(channel.id, "Acme 2", version=1)
    expected = local.read()
    local.close()
    backend = HttpBackend(sandbox(store=store).url, None, policy=FAST)
    (read,) = backend.read().channels
    backend.close()
    assert read.version == expected.channels[0].version == 2
    assert [lk.version for lk in read.links] == [lk.version for lk in expected.channels[0].links]
    assert isinstance(read.links[0], Link) and read.links[0].version == 2
