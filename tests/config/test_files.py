"""Reading a config file (``config.files``): the size limit, the encoding, the OS's errors."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from reconciler import config
from reconciler.errors import ConfigError


def read_error(path: str | Path, **kwargs: int) -> str:
    with pytest.raises(ConfigError) as info:
        config.read_text(path, **kwargs)
    assert len(info.value.problems) == 1
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert read_error(path) == f"{path}: no such file"


def test_missing_directory_in_path(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir.yaml"
    assert read_error(path) == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert read_error(tmp_path) == f"{tmp_path}: is a directory, not a config file"


def test_empty_file_name() -> None:
    assert read_error("") == ": no file name given"


def test_nul_byte_in_file_name() -> None:
    # shown escaped: a file name can't put a control character on the terminal
    assert read_error("bad\0name.yaml").startswith("bad\\u0000name.yaml: cannot read: ")


def test_a_file_name_cannot_split_the_line_or_colour_it() -> None:
    error = read_error("a\nb\x1b[31m.yaml")
    assert error.startswith("a\\nb\\u001b[31m.yaml: no such file")
    assert "\n" not in error and "\x1b" not in error


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root reads a file whatever its mode"
)
def test_unreadable_file(write) -> None:
    path = write("version: 1\nchannels: []\n")
    path.chmod(0)
    try:
        assert read_error(path) == f"{path}: permission denied"
    finally:
        path.chmod(0o644)


def test_permission_denied_is_mapped_even_as_root(write, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 can't stop root, so the OS refusal is produced at the one call that opens the file.
    path = write("version: 1\nchannels: []\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert read_error(path) == f"{path}: permission denied"


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_read_error_from_the_os_is_a_config_error() -> None:
    # Reading /proc/self/mem at offset 0 fails with EIO: a real OSError that isn't about access.
    assert read_error("/proc/self/mem") == "/proc/self/mem: cannot read: Input/output error"


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    line = b"  - account: acmepets\n    display_name: Acme Pets\n"
    with path.open("wb") as handle:
        handle.write(b"version: 1\nchannels:\n")
        handle.write(line * (50 * 2**20 // len(line) + 1))
    start = time.perf_counter()
    message = read_error(path)
    assert time.perf_counter() - start < 0.5
    assert message == f"{path}: file is 50.0 MiB; the limit is 32 MiB"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_endless_device_is_refused_after_the_limit() -> None:
    # /dev/zero has no size to check; the read itself must stop.
    start = time.perf_counter()
    message = read_error("/dev/zero", max_bytes=4096)
    assert time.perf_counter() - start < 0.5
    assert message == "/dev/zero: file is larger than the 4,096 bytes limit"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_pipe_is_read_and_checked(tmp_path: Path) -> None:
    fifo = tmp_path / "config.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("wb") as handle:
            handle.write(b"version: 1\nchannels: []\n")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert config.read_text(fifo) == "version: 1\nchannels: []\n"
    finally:
        writer.join(timeout=5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("x".encode("utf-16"), "UTF-16"),
        ("x".encode("utf-16-be").join([b"\xfe\xff", b""]), "UTF-16"),
        ("x".encode("utf-32"), "UTF-32"),
    ],
)
def test_utf16_and_utf32_are_named(write, data: bytes, message: str) -> None:
    path = write(data)
    assert read_error(path) == (
        f"{path}:1:1: the file is {message} (it starts with a {message} byte order mark): "
        "save it as UTF-8"
    )


def test_invalid_utf8_position_counts_characters_before_it(write) -> None:
    path = write("version: 1\n# café ☕ ".encode() + b"\xff\n")
    assert read_error(path) == f"{path}:2:10: not valid UTF-8 (byte 0xff): save the file as UTF-8"


def test_the_size_limit_can_be_raised_for_huge_workspaces(write, monkeypatch) -> None:
    path = write("version: 1\nchannels: []\n" + "# padding\n" * 2000)
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "0.01")
    with pytest.raises(ConfigError, match="the limit is"):
        config.read_text(path)
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "1")
    assert config.read_text(path).startswith("version: 1")
    monkeypatch.setenv("RECONCILER_MAX_CONFIG_MB", "lots")
    with pytest.raises(ConfigError, match="RECONCILER_MAX_CONFIG_MB: must be a number"):
        config.read_text(path)
