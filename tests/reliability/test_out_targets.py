"""``--out`` writes into what it names, never replaces it (issue 17, finding 1).

Every command with ``--out`` (``plan``, ``links`` in each format, ``links --changed-since``,
``export``) runs as a real process against a real store, with ``--out`` naming each kind of
file a user (or a CI script) may give it: a FIFO with a reader gets the bytes; a symlink's
target is written and the link stays a link (a dangling one gets its target made); a
character device stays that device (``/dev/null``, ``/dev/stdout``: a rename over it would
put a regular file in the system's place); a directory is refused with a clear message; a
regular file keeps its permissions. What reaches each is byte for byte what a regular file
gets.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
import yaml

from tests.reliability.figures import record
from tests.runners import example, link_of, reconciler

#: Each command with --out, as arguments before it; "{plan}" is a saved plan of the config.
COMMANDS = {
    "plan": ["plan", "w.yaml", "--out"],
    "links-text": ["links", "--out"],
    "links-csv": ["links", "--format", "csv", "--out"],
    "links-json": ["links", "--format", "json", "--out"],
    "changed-since": ["links", "--changed-since", "{plan}", "--format", "csv", "--out"],
    "export": ["export", "--out"],
}


def workspace(tmp: Path) -> Path:
    """A store with the example applied, a config that regenerates one link, and a saved
    plan of it (``saved.json``): every command has something to write."""
    env = {"RECONCILER_STORE": str(tmp / "ws.db")}
    reconciler("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)", cwd=tmp, **env)
    reconciler("sandbox", "connect", "acmepets.global", "--display-name", "G", cwd=tmp, **env)
    data = example()
    (tmp / "w.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    reconciler("apply", "w.yaml", "--auto-approve", cwd=tmp, **env)
    link_of(data, "acmepets", "VIP Program")["message"] = "Join the VIP program today"
    (tmp / "w.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    reconciler("plan", "w.yaml", "--out", "saved.json", cwd=tmp, **env)
    return tmp


def run_out(tmp: Path, name: str, target: str | Path, code: int = 0) -> str:
    """Run command ``name`` with ``--out target``; its stderr."""
    args = [a.replace("{plan}", "saved.json") for a in COMMANDS[name]]
    result = reconciler(*args, target, cwd=tmp, code=code, RECONCILER_STORE=str(tmp / "ws.db"))
    record("out targets", runs=1)
    return result.stderr


def expected(tmp: Path, name: str) -> bytes:
    """What command ``name`` writes to a new regular file."""
    run_out(tmp, name, tmp / f"regular-{name}")
    return (tmp / f"regular-{name}").read_bytes()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace(tmp_path_factory.mktemp("out"))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_fifo_with_a_reader_gets_the_bytes_and_stays_a_fifo(ws: Path, name: str) -> None:
    want = expected(ws, name)
    fifo = ws / f"fifo-{name}"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run_out(ws, name, fifo)
    reader.join(timeout=30)
    assert not reader.is_alive(), "the reader never saw the end of the data"
    assert got == [want]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    record("out targets", fifo=1)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_symlink_has_its_target_written_and_stays_a_link(ws: Path, name: str) -> None:
    want = expected(ws, name)
    target = ws / f"target-{name}"
    target.write_bytes(b"old")
    link = ws / f"link-{name}"
    link.symlink_to(target.name)
    run_out(ws, name, link)
    assert link.is_symlink() and os.readlink(link) == target.name
    assert target.read_bytes() == want
    dangling = ws / f"dangling-{name}"
    dangling.symlink_to(f"made-{name}")
    run_out(ws, name, dangling)
    assert dangling.is_symlink() and (ws / f"made-{name}").read_bytes() == want
    record("out targets", symlink=2)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_character_device_stays_that_device(ws: Path, name: str) -> None:
    device = ws / f"null-{name}"
    try:  # a null device of our own: a failing run must not replace the system's
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    before = device.lstat()
    run_out(ws, name, device)
    after = device.lstat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    record("out targets", device=1)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_directory_is_refused_and_left_alone(ws: Path, name: str) -> None:
    directory = ws / f"dir-{name}"
    directory.mkdir()
    (directory / "kept").write_text("x")
    stderr = run_out(ws, name, directory, code=None)
    assert "directory" in stderr.lower()
    assert sorted(p.name for p in directory.iterdir()) == ["kept"]
    record("out targets", directory=1)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_regular_file_is_replaced_whole_and_keeps_its_permissions(ws: Path, name: str) -> None:
    want = expected(ws, name)
    private = ws / f"private-{name}"
    private.write_bytes(b"old content, longer than nothing")
    private.chmod(0o600)
    run_out(ws, name, private)
    assert private.read_bytes() == want
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert [p.name for p in ws.iterdir() if p.name.startswith(f".private-{name}")] == []
    record("out targets", regular=1)
