"""Bad input through the real command line: never accepted, never a traceback, a position
wherever the problem has one, and the workspace untouched.

Every case of the corpus (``corpus.py``: structural mutations of the example, damaged bytes,
YAML attacks, binary junk, the bad-*.yaml fixtures, missing and huge files) goes through
``validate``, ``plan --out PLANFILE`` and ``apply --auto-approve --allow-removals --force``, in
process with click's CliRunner, against a store whose channels and links differ from the
example's: a config accepted by mistake would change it. Each run must exit 1, with no
traceback and no "internal error" anywhere and nothing on stdout; stderr must start with
``FILE:LINE:COL: `` when the problem has a position (the expected position among those
reported), ``FILE: `` when it hasn't; and the store's sha256, size, mtime and directory listing
must be what they were, with no plan file written. A sample goes through the installed command
in real processes; ``pytest -m long`` sends every case through one, and ten more seeds of the
generated part in process.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.backends.local import LocalBackend
from reconciler.cli import cli
from reconciler.model import visible
from tests.helpers import clean_environment, reconciler_command
from tests.reliability import corpus
from tests.reliability.corpus import ANY, Case
from tests.reliability.figures import record

CASES = corpus.corpus()
COMMANDS = ("validate", "plan", "apply")
#: One in this many cases also runs through the installed command in a real process.
SAMPLE_EVERY = 40


@dataclass(frozen=True)
class Store:
    """The prepared workspace: where it is, and what it must stay."""

    path: Path

    def snapshot(self) -> tuple[str, int, int, list[str]]:
        """sha256, size, mtime and the names in its directory (no journal left behind)."""
        stat = self.path.stat()
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return (
            digest,
            stat.st_size,
            stat.st_mtime_ns,
            sorted(p.name for p in self.path.parent.iterdir()),
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store with the example's channels and titles but other messages, an extra link and
    an unmanaged channel: applying anything like the example would regenerate, create and
    remove."""
    path = tmp_path_factory.mktemp("store") / "ws.db"
    backend = LocalBackend(path)
    for channel in corpus.BASE["channels"]:
        created = backend.connect_channel(channel["account"], "Old name")
        for n, link in enumerate(channel["links"]):
            backend.create_link(
                created.id,
                title=link["title"],
                ref=link.get("ref"),
                message=f"old {n}",
                key=f"k{created.id}-{n}",
            )
        backend.create_link(
            created.id, title="Stale", ref=None, message="bye", key=f"stale{created.id}"
        )
    backend.connect_channel("unmanaged", "Someone else's")
    backend.close()
    return Store(path)


def argv(command: str, file: Path | str, store: Store, workdir: Path) -> list[str]:
    name = str(file)
    if command == "validate":
        return ["validate", name]
    if command == "plan":
        return ["plan", name, "--store", str(store.path), "--out", str(workdir / "plan.json")]
    return [
        "apply",
        name,
        "--store",
        str(store.path),
        "--auto-approve",
        "--allow-removals",
        "--force",
    ]


def check_refused(case: Case, file: Path | str, code: int, stdout: str, stderr: str) -> None:
    """What every refusal must look like (see the module docstring)."""
    output = stdout + stderr
    assert code == 1, f"exit {code}:\n{output[:2000]}"
    assert "Traceback" not in output and "internal error" not in output, output[:4000]
    assert stdout == "", stdout[:2000]
    lines = stderr.splitlines()
    assert lines, "no message"
    name = case.names or visible(str(file))
    positioned = re.compile(re.escape(name) + r":(\d+):(\d+): \S")
    if case.where is None:
        assert lines[0].startswith(f"{name}: "), lines[0][:500]
        assert not positioned.match(lines[0]), lines[0][:500]
        return
    assert positioned.match(lines[0]), f"no FILE:LINE:COL in {lines[0][:500]!r}"
    if case.where != ANY:
        line, col = case.where  # type: ignore[misc]
        found = [ln[: len(name) + 12] for ln in lines if positioned.match(ln)]
        assert any(ln.startswith(f"{name}:{line}:{col}: ") for ln in lines), (
            f"expected {line}:{col} among {found[:10]}"
        )


def run_in_process(case: Case, command: str, store: Store, workdir: Path) -> int:
    """Run one case through the CLI in process; check the refusal; its exit code."""
    file = case.materialise(workdir)
    env: dict[str, str | None] = {
        "RECONCILER_STORE": None,
        "RECONCILER_BACKEND": None,
        "RECONCILER_MAX_CONFIG_MB": None,
        "SLEEKFLOW_API_KEY": None,
        "SLEEKFLOW_API_URL": None,
    }
    env.update(dict(case.env))
    before = store.snapshot()
    result = CliRunner().invoke(cli, argv(command, file, store, workdir), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    check_refused(case, file, result.exit_code, result.stdout, result.stderr)
    assert store.snapshot() == before, f"{command} changed the store"
    assert not (workdir / "plan.json").exists(), "a plan file was written"
    return result.exit_code


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(case: Case, store: Store, tmp_path: Path) -> None:
    codes = [run_in_process(case, command, store, tmp_path) for command in COMMANDS]
    assert codes == [1] * len(COMMANDS)
    record("bad input (always)", cases=1, runs=len(COMMANDS))
    record("bad input by family", **{case.family: 1})


def test_the_corpus_is_big_and_varied() -> None:
    families = Counter(c.family for c in CASES)
    assert len(CASES) >= 500
    assert len(families) >= 20, families
    assert sum(c.where is None for c in CASES) >= 10  # problems without a position
    assert sum(isinstance(c.where, tuple) for c in CASES) >= 400  # exact positions checked


# --- the installed command, in real processes --------------------------------------------


def run_in_a_process(case: Case, command: str, store: Store, workdir: Path) -> int:
    """Run one case through the installed command in a process of its own; check the
    refusal; its exit code."""
    file = case.materialise(workdir)
    before = store.snapshot()
    done = subprocess.run(
        [*reconciler_command(), *argv(command, file, store, workdir)],
        env=clean_environment(**dict(case.env)),
        capture_output=True,
        timeout=120,
        check=False,
    )
    stdout = done.stdout.decode("utf-8", "replace")
    stderr = done.stderr.decode("utf-8", "replace")
    check_refused(case, file, done.returncode, stdout, stderr)
    assert store.snapshot() == before, f"{command} changed the store"
    assert not (workdir / "plan.json").exists()
    return done.returncode


def _in_processes(
    cases: list[tuple[Case, str]], store: Store, root: Path, workers: int
) -> list[int]:
    """Each case through ``run_in_a_process``, ``workers`` at a time: their exit codes."""

    def one(item: tuple[int, tuple[Case, str]]) -> int:
        n, (case, command) = item
        workdir = root / f"{n}"
        workdir.mkdir()
        return run_in_a_process(case, command, store, workdir)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, enumerate(cases)))


def test_a_sample_through_the_installed_command(store: Store, tmp_path: Path) -> None:
    sample = [
        (case, COMMANDS[n % len(COMMANDS)])
        for n, case in enumerate(CASES[::SAMPLE_EVERY])
        if case.family not in ("size", "huge")  # their cost is the file, not the process
    ]
    assert len(sample) >= 20
    codes = _in_processes(sample, store, tmp_path, workers=2)
    assert codes == [1] * len(sample)
    record("bad input (always)", process_runs=len(codes))


# --- the long run ---------------------------------------------------------------------------


def _more_cases() -> Iterator[Case]:
    """The generated part again from ten other seeds, at twice the sampling."""
    seen = {c.id for c in CASES}
    for k in range(1, 11):
        for case in corpus.corpus(corpus.SEED + k, scale=2, big=False):
            if case.id not in seen:
                seen.add(case.id)
                yield case


@pytest.mark.long
def test_long_more_seeds_in_process(store: Store, tmp_path: Path) -> None:
    tried = 0
    for n, case in enumerate(_more_cases()):
        workdir = tmp_path / f"{n}"
        workdir.mkdir()
        for command in COMMANDS:
            run_in_process(case, command, store, workdir)
        tried += 1
    assert tried >= 2000
    record("bad input (long)", cases=tried, runs=tried * len(COMMANDS))


@pytest.mark.long
def test_long_every_case_through_the_installed_command(store: Store, tmp_path: Path) -> None:
    everything = [(case, command) for case in CASES for command in COMMANDS]
    codes = _in_processes(everything, store, tmp_path, workers=4)
    assert codes == [1] * len(everything)
    record("bad input (long)", process_runs=len(codes))


# --- the harness lets valid files through --------------------------------------------------


@pytest.mark.parametrize("name", sorted(corpus.near_misses()))
def test_near_misses_are_valid(name: str, store: Store, tmp_path: Path) -> None:
    """Files that look damaged and are fine: validate and plan accept them (plan changes
    nothing, so the store stays as it was)."""
    file = tmp_path / "workspace.yaml"
    file.write_bytes(corpus.near_misses()[name])
    before = store.snapshot()
    runner = CliRunner()
    valid = runner.invoke(cli, ["validate", str(file)])
    assert valid.exit_code == 0, valid.output
    planned = runner.invoke(cli, ["plan", str(file), "--store", str(store.path)])
    assert planned.exit_code == 0, planned.output
    assert "Traceback" not in planned.output
    assert store.snapshot() == before
    record("bad input (always)", near_misses=1)


# --- what the corpus found, pinned down ----------------------------------------------------


def test_one_long_string_aliased_90000_times_is_refused_at_once(tmp_path: Path) -> None:
    """90,000 aliases of a 1 MB string (a 4.8 MB file, under every other bound) used to cost
    minutes of checking; aliases now add at most 32 Mi characters of text."""
    links = "".join(f"      - title: t{i}\n        message: *m\n" for i in range(90_000))
    head = corpus.HEAD.replace("display_name: Acme", f'display_name: &m "{"x" * 1_000_000}"')
    path = tmp_path / "quadratic.yaml"
    path.write_text(head + links, encoding="utf-8")
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert time.perf_counter() - started < 2.0
    assert result.exit_code == 1
    assert "aliases expand to more than 33,554,432 characters of text" in result.stderr


def test_a_huge_value_is_named_by_its_start_and_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(corpus.HEAD.replace("acmepets", "a" * 5_000_000), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert "'aaaa" in result.stderr and "... (5,000,000 characters) is not valid" in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 400


def test_a_small_size_limit_is_stated_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_bytes(corpus.EXAMPLE_TEXT.encode())
    result = CliRunner().invoke(
        cli, ["validate", str(path)], env={"RECONCILER_MAX_CONFIG_MB": "0.001"}
    )
    size = len(corpus.EXAMPLE_TEXT.encode())
    assert f"{path}: file is {size:,} bytes; the limit is 1,048 bytes" in result.stderr
