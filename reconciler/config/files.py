"""Reading a config file into text: the size limit, the encoding, and what went wrong.

The only I/O of config loading. A file is UTF-8 (a UTF-8 byte order mark is allowed); one
that isn't, or is too large, or can't be read is a ``ConfigError`` naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.config.positions import line_col
from reconciler.errors import ConfigError, Problem, Severity
from reconciler.files import reason

#: A config larger than this is refused before it is parsed.
MAX_CONFIG_BYTES = 32 * 1024 * 1024

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def max_config_bytes() -> int:
    """The size limit: ``MAX_CONFIG_BYTES``, or ``RECONCILER_MAX_CONFIG_MB`` when set (for
    very large workspaces; see docs/benchmarks.md for what a size costs)."""
    raw = os.environ.get("RECONCILER_MAX_CONFIG_MB", "").strip()
    if not raw:
        return MAX_CONFIG_BYTES
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes <= 4096:
        raise ConfigError(
            [
                Problem(
                    path="RECONCILER_MAX_CONFIG_MB",
                    line=None,
                    col=None,
                    severity=Severity.ERROR,
                    code="environment",
                    message=f"must be a number of MiB from 0 to 4096, not {raw!r}",
                )
            ]
        )
    return int(megabytes * 2**20)


def read_text(path: str | Path, *, max_bytes: int | None = None) -> str:
    """Read a config file as UTF-8 text (a UTF-8 BOM is allowed), or raise ``ConfigError``
    (``read_bytes``, then ``decode``)."""
    return decode(read_bytes(path, max_bytes=max_bytes), str(path))


def read_bytes(path: str | Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a config file, or ``ConfigError`` saying why it can't be read.

    A file larger than ``max_bytes`` is refused without being read: by its size when it has
    one, else (a pipe, a device) after ``max_bytes + 1`` bytes.
    """
    name = str(path)
    p = Path(path)
    if max_bytes is None:
        max_bytes = max_config_bytes()
    limit = f"{max_bytes / 2**20:g} MiB" if max_bytes >= 2**20 else f"{max_bytes:,} bytes"
    if not name:
        raise _fail(name, "no file name given")
    try:
        if p.is_dir():
            raise _fail(name, "is a directory, not a config file")
        size = p.stat().st_size
        if size > max_bytes:
            shown = f"{size / 2**20:.1f} MiB" if max_bytes >= 2**20 else f"{size:,} bytes"
            raise _fail(name, f"file is {shown}; the limit is {limit}")
        with p.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise _fail(name, "no such file") from None
    except PermissionError:
        raise _fail(name, "permission denied") from None
    except (OSError, ValueError) as exc:  # ValueError: e.g. a NUL byte in the name
        raise _fail(name, f"cannot read: {reason(exc)}") from None
    if len(data) > max_bytes:
        raise _fail(name, f"file is larger than the {limit} limit")
    return data


def decode(data: bytes, name: str) -> str:
    """The text of a config file's bytes (``name`` for messages): UTF-8, a UTF-8 BOM allowed;
    ``ConfigError`` at the first byte that isn't."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise _fail(
                name,
                f"the file is {encoding} (it starts with a {encoding} byte order mark): "
                "save it as UTF-8",
                1,
                1,
            )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = line_col(data[: exc.start].decode("utf-8", "replace"))
        bad = data[exc.start : exc.start + 1].hex()
        raise _fail(
            name, f"not valid UTF-8 (byte 0x{bad}): save the file as UTF-8", line, col
        ) from None


def file_problem(
    name: str, message: str, line: int | None = None, col: int | None = None
) -> Problem:
    """An error about the config file (or directory) ``name`` as a whole: code ``file``."""
    return Problem(
        path=name, line=line, col=col, severity=Severity.ERROR, code="file", message=message
    )


def _fail(name: str, message: str, line: int | None = None, col: int | None = None) -> ConfigError:
    return ConfigError([file_problem(name, message, line, col)])
