"""`reconciler validate`: exit codes, output formats, and never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import ReconcilerGroup, cli
from reconciler.errors import PlanError
from tests.helpers import EXAMPLE, FIXTURES, ROOT, TEN_MISTAKES, reconciler_command

CONFIGS = FIXTURES / "configs"
PROBLEM_KEYS = {"path", "line", "col", "severity", "code", "message"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_clean_failure(result: Result) -> None:
    """Exit 1 with a message on stderr, and no traceback or internal error anywhere."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.strip()
    assert "Traceback" not in result.output
    assert "internal error" not in result.output


# --- text output ---------------------------------------------------------------------------


def test_valid_file_exits_0_and_says_so_on_stdout() -> None:
    result = run("validate", EXAMPLE)
    assert result.exit_code == 0
    assert result.stdout == f"{EXAMPLE}: valid\n"
    assert result.stderr == ""


def test_every_mistake_gets_its_own_file_line_col_line_on_stderr(write) -> None:
    path = write(TEN_MISTAKES)
    result = run("validate", path)
    assert_clean_failure(result)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == "11 errors found"
    positions = [line.split(": ", 1)[0] for line in lines[:-1]]
    assert positions == [
        f"{path}:{line}:{col}"
        for line, col in [
            (3, 14),
            (4, 19),
            (5, 5),
            (7, 16),
            (10, 14),
            (12, 16),
            (14, 9),
            (15, 5),
            (18, 18),
            (19, 14),
            (21, 21),
        ]
    ]


def test_one_error_is_counted_in_the_singular() -> None:
    path = CONFIGS / "bad-title-bool.yaml"
    result = run("validate", path)
    assert_clean_failure(result)
    assert result.stderr == (
        f'{path}:6:16: title must be a string, not a boolean; quote it: title: "yes"\n'
        "1 error found\n"
    )


def test_warning_only_file_exits_0_and_prints_the_warning() -> None:
    path = CONFIGS / "warn-duplicate-ref.yaml"
    result = run("validate", path)
    assert result.exit_code == 0
    assert result.stdout == (
        f"{path}:10:14: warning: ref 'bio' is also used at line 7: "
        "tracking can't tell these links apart\n"
        f"{path}: valid (1 warning)\n"
    )
    assert result.stderr == ""


def test_warnings_are_listed_with_errors_but_not_counted_as_errors(write) -> None:
    text = (CONFIGS / "warn-duplicate-ref.yaml").read_text(encoding="utf-8")
    path = write(text.replace("version: 1", "version: 1\nextra: 1"))
    result = run("validate", path)
    assert_clean_failure(result)
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}:2:1: unknown key 'extra' (allowed: channels, version)"
    assert lines[1].startswith(f"{path}:11:14: warning: ref 'bio'")
    assert lines[2] == "1 error found"


# --- json output ---------------------------------------------------------------------------


def test_json_lists_every_problem_with_its_fields() -> None:
    path = CONFIGS / "bad-merge-key.yaml"
    result = run("validate", "--format", "json", path)
    assert result.exit_code == 1
    assert result.stderr == ""
    assert json.loads(result.stdout) == [
        {
            "path": str(path),
            "line": 6,
            "col": 5,
            "severity": "error",
            "code": "required",
            "message": "channel is missing required key 'display_name' (unless remove: true)",
        },
        {
            "path": str(path),
            "line": 6,
            "col": 5,
            "severity": "error",
            "code": "merge-key",
            "message": "merge keys (<<) are not supported: write the keys out",
        },
    ]


def test_github_prints_a_workflow_command_per_problem_at_its_line() -> None:
    path = CONFIGS / "bad-merge-key.yaml"
    result = run("validate", "--format", "github", path)
    assert result.exit_code == 1
    assert result.stderr == ""
    file = str(path).replace(":", "%3A").replace(",", "%2C")
    assert result.stdout == (
        f"::error file={file},line=6,col=5,title=required::channel is missing required key "
        "'display_name' (unless remove: true)\n"
        f"::error file={file},line=6,col=5,title=merge-key::merge keys (<<) are not "
        "supported: write the keys out\n"
    )
    warned = run("validate", "--format", "github", CONFIGS / "warn-duplicate-ref.yaml")
    assert warned.exit_code == 0
    assert warned.stdout.startswith("::warning file=") and ",line=10,col=14," in warned.stdout
    assert run("validate", "--format", "github", EXAMPLE).stdout == ""


def test_json_for_a_valid_file_is_an_empty_list() -> None:
    result = run("validate", "--format", "json", EXAMPLE)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_json_warning_exits_0() -> None:
    result = run("validate", "--format", "json", CONFIGS / "warn-duplicate-ref.yaml")
    assert result.exit_code == 0
    problems = json.loads(result.stdout)
    assert [(p["severity"], p["code"], p["line"], p["col"]) for p in problems] == [
        ("warning", "duplicate-ref", 10, 14)
    ]


def test_json_for_an_unreadable_file_has_no_position(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    result = run("validate", "--format", "json", path)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "path": str(path),
            "line": None,
            "col": None,
            "severity": "error",
            "code": "file",
            "message": "no such file",
        }
    ]


def test_json_keys_are_the_same_for_every_fixture() -> None:
    for fixture in sorted(CONFIGS.glob("*.yaml")):
        result = run("validate", "--format", "json", fixture)
        assert result.exit_code in (0, 1)
        for problem in json.loads(result.stdout):
            assert set(problem) == PROBLEM_KEYS
            assert problem["severity"] in ("error", "warning")


def test_json_keeps_non_ascii_readable() -> None:
    result = run("validate", "--format", "json", CONFIGS / "bad-message-too-long-emoji.yaml")
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["code"] == "too-long"
    assert "\\u" not in result.stdout


# --- bad input of every kind: exit 1, a message, never a traceback ---------------------------

Maker = Callable[[Path], Path]


def _missing(tmp: Path) -> Path:
    return tmp / "missing.yaml"


def _directory(tmp: Path) -> Path:
    return tmp


def _bytes(data: bytes) -> Maker:
    def make(tmp: Path) -> Path:
        path = tmp / "input.yaml"
        path.write_bytes(data)
        return path

    return make


def _fixture(name: str) -> Maker:
    return lambda _tmp: CONFIGS / f"{name}.yaml"


BAD_INPUTS: dict[str, tuple[Maker, str]] = {
    "missing file": (_missing, "no such file"),
    # a directory is its *.yaml and *.yml files; one with none is refused
    "directory": (_directory, "a directory with no *.yaml or *.yml file in it"),
    "empty file": (_bytes(b""), "1:1: the file is empty: it needs 'version: 1' and 'channels'"),
    "not utf-8": (_bytes(b"version: 1\n\x80"), "2:1: not valid UTF-8 (byte 0x80)"),
    "utf-16 with bom": (
        _bytes("version: 1\nchannels: []\n".encode("utf-16")),
        "1:1: the file is UTF-16",
    ),
    "yaml syntax error": (
        _bytes(b"version: 1\nchannels: [\n"),
        "3:1: YAML syntax error: while parsing a flow node: did not find expected node content",
    ),
    "top level list": (_fixture("bad-top-level-list"), "1:1: the top level must be a mapping"),
    "top level scalar": (_fixture("bad-top-level-scalar"), "1:1: the top level must be a mapping"),
    "number as title": (_fixture("bad-title-number"), "6:16: title must be a string"),
    "list as message": (_fixture("bad-message-list"), "7:18: message must be a string"),
    "null message": (_fixture("bad-null-message"), "7:18: message must be a string, not null"),
    "billion laughs": (_fixture("bad-billion-laughs"), "8:12: aliases expand to more than"),
    "control character": (_bytes(b"version: 1\x00\n"), "1:11: YAML syntax error: control"),
    "deep nesting": (_bytes(b"[" * 5000 + b"]" * 5000), "1:1001: YAML syntax error"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_exits_1_with_a_message(kind: str, tmp_path: Path) -> None:
    make, message = BAD_INPUTS[kind]
    path = make(tmp_path)
    result = run("validate", path)
    assert_clean_failure(result)
    assert result.stderr.startswith(f"{path}:{message}") or result.stderr.startswith(
        f"{path}: {message}"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_unreadable_file_exits_1(write) -> None:
    path = write("version: 1\nchannels: []\n")
    path.chmod(0)
    try:
        result = run("validate", path)
    finally:
        path.chmod(0o644)
    assert_clean_failure(result)
    assert result.stderr == f"{path}: permission denied\n1 error found\n"


def test_50_mb_file_fails_fast_with_the_size_message(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    chunk = b"# " + b"x" * 1021 + b"\n"
    with path.open("wb") as handle:
        handle.write(b"version: 1\nchannels: []\n")
        for _ in range(50 * 1024):
            handle.write(chunk)
    start = time.perf_counter()
    result = run("validate", path)
    elapsed = time.perf_counter() - start
    assert_clean_failure(result)
    assert result.stderr == f"{path}: file is 50.0 MiB; the limit is 32 MiB\n1 error found\n"
    assert elapsed < 1.0


def test_billion_laughs_fails_in_well_under_a_second() -> None:
    start = time.perf_counter()
    result = run("validate", CONFIGS / "bad-billion-laughs.yaml")
    elapsed = time.perf_counter() - start
    assert_clean_failure(result)
    assert elapsed < 1.0


def test_missing_argument_is_a_usage_error_not_a_crash() -> None:
    result = run("validate")
    assert result.exit_code == 1  # never 2: that is --detailed-exitcode's "changes"
    assert "Missing argument 'PATH...'" in result.stderr


def test_validate_has_help_text() -> None:
    result = run("validate", "--help")
    assert result.exit_code == 0
    assert "Check the config of PATHs against the schema" in result.stdout
    assert "--format [text|json|github]" in result.stdout


# --- --debug -------------------------------------------------------------------------------


@click.group(cls=ReconcilerGroup)
@click.option("--debug", is_flag=True)
def demo(debug: bool) -> None:
    """A group with the real error handling and commands that fail on purpose."""


@demo.command()
def stale() -> None:
    raise PlanError("the saved plan is stale: run plan again")


@demo.command()
def crash() -> None:
    raise RuntimeError("boom")


@demo.command()
def interrupt() -> None:
    raise KeyboardInterrupt


def test_reconciler_error_is_one_message_and_exit_1_without_debug() -> None:
    result = CliRunner().invoke(demo, ["stale"])
    assert result.exit_code == 1
    assert result.stderr == "the saved plan is stale: run plan again\n"
    assert isinstance(result.exception, SystemExit)


def test_reconciler_error_propagates_with_its_traceback_under_debug() -> None:
    result = CliRunner().invoke(demo, ["--debug", "stale"])
    assert result.exit_code == 1
    assert isinstance(result.exception, PlanError)
    assert result.exc_info is not None and result.exc_info[2] is not None


def test_foreign_exception_is_reported_as_an_internal_error() -> None:
    result = CliRunner().invoke(demo, ["crash"])
    assert result.exit_code == 1
    assert result.stderr == (
        "internal error: RuntimeError: boom\n"
        "This is a bug in reconciler; run again with --debug for the traceback.\n"
    )
    debug = CliRunner().invoke(demo, ["--debug", "crash"])
    assert isinstance(debug.exception, RuntimeError)


def test_interrupt_exits_130() -> None:
    result = CliRunner().invoke(demo, ["interrupt"])
    assert result.exit_code == 130
    assert result.stderr == "interrupted\n"


def test_validate_problems_are_output_not_errors_even_under_debug() -> None:
    path = CONFIGS / "bad-title-bool.yaml"
    result = run("--debug", "validate", path)
    assert_clean_failure(result)
    assert result.stderr.startswith(f"{path}:6:16: ")


def test_validate_unreadable_file_raises_under_debug(tmp_path: Path) -> None:
    result = run("--debug", "validate", tmp_path / "missing.yaml")
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "ConfigError"


# --- end to end: the installed command in a real subprocess ---------------------------------


def run_process(*args: str | bytes, cmd: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*(cmd or reconciler_command()), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_installed_command_accepts_the_example() -> None:
    done = run_process("validate", "examples/workspace.yaml")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "examples/workspace.yaml: valid\n"
    assert done.stderr == ""


def test_python_dash_m_accepts_the_example() -> None:
    done = run_process(
        "validate", "examples/workspace.yaml", cmd=[sys.executable, "-m", "reconciler"]
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "examples/workspace.yaml: valid\n"


def test_installed_command_rejects_a_bad_file_with_its_position() -> None:
    done = run_process("validate", "tests/fixtures/configs/bad-ref-number.yaml")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "tests/fixtures/configs/bad-ref-number.yaml:7:14: "
        'ref must be a string, not a number; quote it: ref: "0123"\n'
        "1 error found\n"
    )


def test_installed_command_shows_a_traceback_only_under_debug() -> None:
    plain = run_process("validate", "no/such/file.yaml")
    assert plain.returncode == 1
    assert plain.stderr == "no/such/file.yaml: no such file\n1 error found\n"
    debug = run_process("--debug", "validate", "no/such/file.yaml")
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.rstrip().endswith(
        "reconciler.errors.ConfigError: no/such/file.yaml: no such file"
    )


@pytest.mark.skipif(sys.platform != "linux", reason="needs byte file names")
def test_file_name_that_is_not_utf8_is_handled(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff-workspace.yaml")
    (tmp_path / name).write_text("version: 1\nchannels: []\n", encoding="utf-8")
    done = subprocess.run(
        [*reconciler_command(), "validate", os.fsencode(tmp_path / name)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert b"Traceback" not in done.stderr
    assert done.stdout.rstrip().endswith(b"-workspace.yaml: valid")


# --- property: whatever the file holds, a clean exit ------------------------------------------

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["yes", "no", "0123", "2025-06-01", "~", "acme", "acme.", "bio_link", "", " ", "😀" * 3]
    ),
    # issue 14: numbers of any size, text in only one YAML reader, refs, hidden characters
    st.integers(min_value=10**4000, max_value=10**4200),  # safe_dump prints up to 4,300
    st.sampled_from(
        [
            *("y", "N", "0o17", "1e3", "12e03", "+.5", ".inf", "1_000", "campaign=spring"),
            *("bio.link", "a" * 2081 + "=", "Hi\u200b there", "\u202eBio", "\ufeff", "\u2060"),
            *("VIP Pr\u043egram", "\U0001f468\u200d\U0001f469", "x\U000e0041"),
        ]
    ),
)
value = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
words = st.text(min_size=1, max_size=40).filter(lambda t: not t.isspace())
good_link = st.fixed_dictionaries(
    {"title": words, "message": st.one_of(words, st.text(min_size=490, max_size=510))},
    optional={"ref": st.from_regex(r"[A-Za-z0-9_.=-]{1,10}", fullmatch=True)},
)
wild_link = st.fixed_dictionaries(
    {}, optional={"title": value, "message": value, "ref": value, "mesage": value}
)
good_channel = st.fixed_dictionaries(
    {
        "account": st.from_regex(r"[a-z0-9_.]{1,23}[a-z0-9_]", fullmatch=True),
        "display_name": words,
    },
    optional={
        "protect": st.booleans(),
        "max_change_pct": st.floats(min_value=0, max_value=100),
        "links": st.lists(st.one_of(good_link, good_link, wild_link), max_size=4),
    },
)
removed_channel = st.fixed_dictionaries(
    {"account": st.from_regex(r"[a-z0-9_]{2,10}", fullmatch=True), "remove": st.just(True)},
    optional={"links": st.lists(good_link, max_size=1)},
)
wild_channel = st.fixed_dictionaries(
    {},
    optional={
        "account": value,
        "display_name": value,
        "protect": value,
        "remove": value,
        "max_change_pct": value,
        "links": st.one_of(st.lists(wild_link, max_size=3), value),
    },
)
channel = st.one_of(good_channel, good_channel, good_channel, removed_channel, wild_channel)
document = st.one_of(
    st.fixed_dictionaries({"version": st.just(1), "channels": st.lists(channel, max_size=3)}),
    st.fixed_dictionaries({"version": st.just(1), "channels": st.lists(channel, max_size=3)}),
    st.fixed_dictionaries(
        {}, optional={"version": value, "channels": st.lists(wild_channel, max_size=2), "x": value}
    ),
    value,
)


@st.composite
def yaml_text(draw: st.DrawFn) -> bytes:
    """A YAML dump of a config-shaped document, sometimes damaged on purpose."""
    text = yaml.safe_dump(
        draw(document),
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, True, None])),
        sort_keys=False,
    )
    mutation = draw(
        st.sampled_from(["none", "none", "none", "cut", "insert", "duplicate-line", "huge"])
    )
    if text and mutation == "cut":
        start = draw(st.integers(0, len(text) - 1))
        text = text[:start] + text[start + draw(st.integers(1, 10)) :]
    elif mutation == "insert":
        where = draw(st.integers(0, len(text)))
        chunk = draw(st.text(st.sampled_from(list(":-[]{}&*!|>'\"#\t\n <~?%@`")), max_size=5))
        text = text[:where] + chunk + text[where:]
    elif mutation == "huge":
        # a plain number of thousands of digits (hex, decimal, float) in place of a word
        huge = draw(st.sampled_from(["0x" + "f" * 3600, "9" * 5000, "-" + "7" * 4400 + ".5"]))
        text = re.sub(r"(?<=: )[^\s\[\]{},]+", huge, text, count=draw(st.integers(1, 3)))
    elif mutation == "duplicate-line" and text:
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        text = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    return text.encode("utf-8")


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "workspace.yaml"


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    data=st.one_of(st.binary(max_size=400), yaml_text()),
    fmt=st.sampled_from(["text", "json"]),
)
def test_validate_never_crashes_on_any_content(fuzz_file: Path, data: bytes, fmt: str) -> None:
    fuzz_file.write_bytes(data)
    result = CliRunner().invoke(cli, ["validate", "--format", fmt, str(fuzz_file)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output
    if fmt == "json":
        problems = json.loads(result.stdout)
        assert all(set(p) == PROBLEM_KEYS for p in problems)
        has_error = any(p["severity"] == "error" for p in problems)
        assert result.exit_code == (1 if has_error else 0)
    elif result.exit_code == 1:
        assert result.stderr.splitlines()[-1].endswith(("error found", "errors found"))
    else:
        assert result.stdout.splitlines()[-1].startswith(f"{fuzz_file}: valid")


def test_several_files_are_each_reported_and_any_error_fails(tmp_path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nchannels: []\n", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\nchannels: []\n", encoding="utf-8")
    result = run("validate", str(good), str(bad))
    assert result.exit_code == 1
    assert f"{good}: valid" in result.stdout
    assert f"{bad}:1:10: unsupported version 2" in result.stderr
    assert run("validate", str(good), str(good)).exit_code == 0
    listed = json.loads(run("validate", "--format", "json", str(bad), str(good)).stdout)
    assert [p["path"] for p in listed] == [str(bad)]


def test_a_usage_error_is_exit_1_even_next_to_detailed_exitcode() -> None:
    # 2 means "changes" to a drift job: a typo must not read as drift.
    result = run("plan", "examples/workspace.yaml", "--detailed-exitcode", "--formt", "json")
    assert result.exit_code == 1
    assert "No such option '--formt'" in result.stderr
