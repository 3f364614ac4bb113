"""Writing files so that a reader never sees half of one, and saying why a file operation
failed in the OS's words."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path


def reason(exc: BaseException) -> str:
    """A short reason for a failure: the OS's words (``No such file or directory``) when
    there are some, else the exception's text, else its type's name."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def write_output(
    target: Path, content: bytes, *, on_terminal: Callable[[bytes], bytes] | None = None
) -> None:
    """Write ``content`` into ``target`` as a user named it (``--out``, ``--report``), whatever
    kind of file it is, never replacing what it names by something else:

    - a regular file, or none yet: atomically (``write_atomic``), keeping an existing file's
      permissions;
    - a symlink: its target is written (the same way), and the link stays a link;
    - a FIFO, a character or block device, a socket: written directly (``/dev/stdout``,
      ``/dev/null``, a pipe to a reader stay what they are; a rename would put a regular file
      in their place);
    - a directory: refused (``IsADirectoryError``).

    When the target is a terminal (``--out /dev/stdout`` or ``/dev/tty`` at a console), the
    bytes written are ``on_terminal(content)`` (the caller's escaping of data for a screen).
    Raises ``OSError``."""
    try:
        info: os.stat_result | None = os.stat(target)  # through symlinks: what they name
    except FileNotFoundError:
        info = None  # nothing there yet (or a symlink to nothing: its target is created)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(target, "wb") as handle:
            if on_terminal is not None and handle.isatty():
                content = on_terminal(content)
            handle.write(content)
        return
    real = Path(os.path.realpath(target))
    write_atomic(real, content, mode=None if info is None else stat.S_IMODE(info.st_mode))


def write_atomic(target: Path, content: bytes, *, mode: int | None = None) -> None:
    """Write ``content`` to ``target`` through a temporary file in the same directory renamed
    over it, so a reader (or a crash) sees the old file or the new one, never a part. A
    symlink at ``target`` is replaced, not followed (``write_output`` follows one). The new
    file gets ``mode``, or else the permissions a new file gets from the umask (``mkstemp``
    would give 0600). Raises ``OSError``; the temporary file is gone either way."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
