"""The installed command in a real process: the default store, colour on a real terminal, and
an apply killed with SIGKILL half-way, which must leave a consistent store that the next apply
completes."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reconciler.backends.local import LocalBackend
from reconciler.model import fold, link_url
from tests.helpers import EXAMPLE, reconciler_command
from tests.runners import body, environment, reconciler

DEFAULT_STORE = Path(".reconciler") / "workspace.db"
#: The crash test gives up (and fails) after this long; it normally takes about a second.
CRASH_TEST_BUDGET_S = 60.0


def test_lifecycle_with_the_default_store(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "workspace.yaml")
    reconciler("sandbox", "connect", "acmepets", "--display-name", "Acme Pets (US)", cwd=tmp_path)
    reconciler("sandbox", "connect", "acmepets.global", cwd=tmp_path)
    assert (tmp_path / DEFAULT_STORE).is_file()

    planned = reconciler("plan", "workspace.yaml", "--detailed-exitcode", cwd=tmp_path, code=2)
    assert planned.stdout.splitlines()[-1] == "Plan: 1 channel to rename, 8 to create."
    applied = reconciler("apply", "workspace.yaml", "--auto-approve", cwd=tmp_path)
    assert "Apply complete: 9 changes applied." in applied.stdout
    again = reconciler("plan", "workspace.yaml", "--detailed-exitcode", cwd=tmp_path, code=0)
    assert body(again.stdout) == "No changes.\n"
    status = reconciler("status", cwd=tmp_path, NO_COLOR="1")
    assert body(status.stdout).splitlines()[0].startswith("acmepets         connected  4 links")

    # the environment variable names another store: refused, and left uncreated
    other = reconciler("status", cwd=tmp_path, code=1, RECONCILER_STORE=str(tmp_path / "other.db"))
    assert f"there is no local workspace at {tmp_path / 'other.db'}" in other.stderr
    assert not (tmp_path / "other.db").exists()


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    from reconciler import __version__

    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == f"reconciler, version {__version__}\n"


def _on_a_terminal(args: list[str], cwd: Path, *, stderr: bool = False, **env: str) -> str:
    """Run with stdout (and with ``stderr``, stderr too) on a pseudo-terminal; what the
    terminal showed."""
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*reconciler_command(), *args],
            cwd=cwd,
            env=environment(**env),
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=follower if stderr else subprocess.DEVNULL,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return b"".join(chunks).decode("utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "workspace.yaml")
    reconciler("sandbox", "connect", "somebody.else", cwd=tmp_path)
    coloured = _on_a_terminal(["plan", "workspace.yaml"], tmp_path)
    assert "\x1b[" in coloured
    plain = _on_a_terminal(["plan", "workspace.yaml"], tmp_path, NO_COLOR="1")
    assert "\x1b[" not in plain
    assert (
        plain.replace("\r\n", "\n").rstrip().endswith("Plan: 2 channels to connect, 8 to create.")
    )


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_apply_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    _bulk_config(tmp_path, 30)
    reconciler("sandbox", "connect", "bulk", "--display-name", "Bulk", cwd=tmp_path)
    shown = _on_a_terminal(
        ["apply", "workspace.yaml", "--auto-approve"], tmp_path, stderr=True, NO_COLOR="1"
    )
    assert "Applying" in shown and "30/30" in shown
    assert "Apply complete: 30 changes applied." in shown
    # not a terminal: no bar, only the report (the helper also checks there is no colour)
    _bulk_config(tmp_path, 60)
    piped = reconciler("apply", "workspace.yaml", "--auto-approve", cwd=tmp_path)
    assert "Applying" not in piped.stderr and "Apply complete: 30 changes applied." in piped.stdout


# --- the crash test -------------------------------------------------------------------------


def _bulk_config(directory: Path, n: int) -> None:
    links = [
        {"title": f"Link {i:05d}", "ref": f"r{i}", "message": f"Hello, customer number {i}!"}
        for i in range(n)
    ]
    data = {
        "version": 1,
        "channels": [{"account": "bulk", "display_name": "Bulk", "links": links}],
    }
    (directory / "workspace.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def _count_links(reader: sqlite3.Connection) -> int:
    try:
        return int(reader.execute("SELECT count(*) FROM links").fetchone()[0])
    except sqlite3.OperationalError:  # locked for a moment, or not created yet
        return -1


def _kill_mid_apply(directory: Path, n: int, deadline: float) -> int | None:
    """Start an apply of ``n`` links and SIGKILL it once some but not all exist. The number
    of links when it died, or None when the poll missed the window."""
    store = directory / DEFAULT_STORE
    proc = subprocess.Popen(
        [*reconciler_command(), "apply", "workspace.yaml", "--auto-approve"],
        cwd=directory,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reader = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.2)
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if 0 < _count_links(reader) < n:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.001)
    finally:
        if proc.poll() is None and time.monotonic() >= deadline:
            proc.kill()
        proc.wait(timeout=60)
        reader.close()
    if proc.returncode != -signal.SIGKILL:
        return None  # finished before the kill
    reader = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        count = int(reader.execute("SELECT count(*) FROM links").fetchone()[0])
    finally:
        reader.close()
    return count if 0 < count < n else None


def test_an_apply_killed_half_way_leaves_a_consistent_store(tmp_path: Path) -> None:
    deadline = time.monotonic() + CRASH_TEST_BUDGET_S
    for n in (300, 1000, 3000, 10000):
        directory = tmp_path / f"links-{n}"
        directory.mkdir()
        _bulk_config(directory, n)
        reconciler("sandbox", "connect", "bulk", "--display-name", "Bulk", cwd=directory)
        killed_with = _kill_mid_apply(directory, n, deadline)
        if killed_with is not None:
            break
        assert time.monotonic() < deadline, "the crash test ran out of time"
    else:
        pytest.fail("every apply finished before it could be killed, even with 10000 links")

    store = directory / DEFAULT_STORE
    db = sqlite3.connect(store)  # a read-write connection rolls back a hot journal
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        created = db.execute(
            "SELECT count(*) FROM link_history WHERE event = 'created'"
        ).fetchone()[0]
        assert created == db.execute("SELECT count(*) FROM links").fetchone()[0]
    finally:
        db.close()
    backend = LocalBackend(store)
    (channel,) = backend.read().channels
    backend.close()
    assert 0 < len(channel.links) < n
    titles = [fold(lk.title) for lk in channel.links]
    assert len(titles) == len(set(titles)), "duplicate titles after the crash"
    for lk in channel.links:
        assert lk.url == link_url(channel.account, lk.ref, lk.message)

    # the next apply finishes the job, and the one after has nothing to do
    reconciler("apply", "workspace.yaml", "--auto-approve", cwd=directory)
    reconciler("plan", "workspace.yaml", "--detailed-exitcode", cwd=directory, code=0)
    backend = LocalBackend(store)
    (channel,) = backend.read().channels
    backend.close()
    assert len(channel.links) == n
    assert sorted(lk.title for lk in channel.links) == [f"Link {i:05d}" for i in range(n)]


def test_the_command_leaves_no_object_for_the_last_collection(tmp_path: Path) -> None:
    # The interpreter's last collection walked every object a command made or imported
    # (~60 ms of a plan over http): main() freezes them all as it ends, whatever the exit.
    probe = (
        "import atexit, gc, sys\n"
        "from reconciler.cli import main\n"
        "atexit.register(lambda: print(len(gc.get_objects(0)), gc.get_freeze_count()))\n"
        "sys.argv = ['reconciler', *sys.argv[1:]]\n"
        "main()\n"
    )
    no_store = ["plan", str(EXAMPLE), "--store", str(tmp_path / "ws.db")]
    for argv, code in ((["validate", str(EXAMPLE)], 0), (no_store, 1)):
        result = subprocess.run(
            [sys.executable, "-c", probe, *argv],
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == code, result.stderr
        young, frozen = map(int, result.stdout.splitlines()[-1].split())
        # The config reader, PyYAML and the plan were imported by the command itself.
        assert young < 100 and frozen > 20_000, (young, frozen)


def test_validate_and_plan_import_nothing_they_do_not_need(tmp_path: Path) -> None:
    # Cold start is benchmarked (docs/benchmarks.md): the http client, the server stack, the
    # Python JSON Schema validator, deepdiff and the QR library load only when used.
    probe = (
        "import sys\n"
        "from reconciler.cli import cli\n"
        "for argv in (['validate', sys.argv[1]], ['plan', sys.argv[1], '--store', sys.argv[2]]):\n"
        "    try:\n"
        "        cli.main(argv, standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('httpx', 'stamina', 'jsonschema', 'http', 'deepdiff', 'segno', 'socketserver')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(EXAMPLE), str(tmp_path / "ws.db")],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "[]", result.stdout
