"""Real ``reconciler`` processes for the crash and race tests: started, paused on a given step
of their apply, resumed, killed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import clean_environment, reconciler_command

#: Budget for one apply (they take well under a second).
APPLY_TIMEOUT_S = 60.0


@dataclass
class Run:
    """A ``reconciler`` process whose output goes to files in ``directory``."""

    process: subprocess.Popen[bytes]
    directory: Path
    name: str

    @property
    def stdout(self) -> str:
        return (self.directory / f"{self.name}.out").read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return (self.directory / f"{self.name}.err").read_text(encoding="utf-8", errors="replace")

    def wait(self) -> int:
        """Let it finish (resumed if paused); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        return self.process.wait(timeout=APPLY_TIMEOUT_S)


def start(
    args: Sequence[str | Path], directory: Path, name: str, env: dict[str, str] | None = None
) -> Run:
    """Start ``reconciler ARGS`` with a clean environment (plus ``env``)."""
    out = directory / f"{name}.out"
    err = directory / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*reconciler_command(), *(str(a) for a in args)],
            env=clean_environment(**(env or {})),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    return Run(process, directory, name)


def history_rows(reader: sqlite3.Connection) -> int:
    """The history's row count; -1 while a writer holds the lock that keeps readers out."""
    try:
        # fetchall: a statement left open would keep a read lock and hold the writer up
        return int(reader.execute("SELECT count(*) FROM link_history").fetchall()[0][0])
    except sqlite3.OperationalError:
        return -1


def run_until(
    process: subprocess.Popen[bytes], store: Path, rows: int, *, tail: float = 0.0
) -> None:
    """Let ``process`` run in short slices (SIGCONT, a moment, SIGSTOP) until the store's
    history has ``rows`` rows, then ``tail`` seconds more, and leave it stopped there (unless
    it ended first). An apply of 200 changes takes a fraction of a second, too fast to stop
    at a given step by polling alone. A slice stops the process wherever it is: with a short
    ``tail``, inside the transaction of the next step as often as not."""
    deadline = time.monotonic() + APPLY_TIMEOUT_S
    reader = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=0.0)
    try:
        process.send_signal(signal.SIGSTOP)
        while process.poll() is None and time.monotonic() < deadline:
            now = history_rows(reader)
            if now >= rows:
                if tail:
                    process.send_signal(signal.SIGCONT)
                    time.sleep(tail)
                    process.send_signal(signal.SIGSTOP)
                return
            # long slices while far from the target (the process starts, plans), short near it
            process.send_signal(signal.SIGCONT)
            time.sleep(0.01 if 0 <= now < rows - 20 else 0.0003)
            process.send_signal(signal.SIGSTOP)
    finally:
        reader.close()
