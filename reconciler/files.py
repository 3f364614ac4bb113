"""Writing files so that a reader never sees half of one, and saying why a file operation
failed in the OS's words."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def reason(exc: BaseException) -> str:
    """A short reason for a failure: the OS's words (``No such file or directory``) when
    there are some, else the exception's text, else its type's name."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def write_atomic(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` through a temporary file in the same directory renamed
    over it, so a reader (or a crash) sees the old file or the new one, never a part. The new
    file gets the permissions a new file gets from the umask (``mkstemp`` would give 0600).
    Raises ``OSError``; the temporary file is gone either way."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
