"""Many links' QR codes at once: the files of a set of links (``build``: a file that provably
holds its code taken as it is), each distinct URL encoded once, over every core this process
may use when there are enough of them to pay for starting the workers (``encode_all``).

Encoding is pure Python and CPU-bound (~8 ms a code), so threads would not help. Workers are
forked (started in ms, nothing imported again, and, unlike ``spawn``, never re-running the
caller's main script), and only where that is safe: on Linux (macOS's system libraries don't
survive a fork), from a process running no other thread (a fork beside one could inherit a
lock it holds). Elsewhere, or if the pool breaks, the codes are made here instead: the result
is the same. Measured, 1,000 codes on the 2 cores of a shared, loaded machine: 7.2-8.8 s ->
5.4-6.7 s.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import QrError
from reconciler.links import LinkRow
from reconciler.model import visible
from reconciler.qr import stamp
from reconciler.qr.codes import encode, render_png, render_svg
from reconciler.qr.files import QrFile, filenames
from reconciler.words import plural

if TYPE_CHECKING:
    from segno import QRCode

#: Fewer distinct URLs than this are encoded in this process (not worth the workers).
POOL_MIN = 200
#: URLs a worker is handed at a time.
CHUNK = 100

#: A URL's code, or why no code can hold it.
Made = dict[str, "QRCode | QrError"]


def encode_all(urls: Iterable[str], *, workers: int | None = None, minimum: int = POOL_MIN) -> Made:
    """Every distinct URL of ``urls`` with its code (``codes.encode``) or the ``QrError`` of
    one no code can hold. ``workers``: processes to use (default: the cores this process may
    run on); one, fewer than ``minimum`` distinct URLs, or a process a fork isn't safe in
    (above) means none are started."""
    distinct = list(dict.fromkeys(urls))
    forkable = sys.platform == "linux" and threading.active_count() == 1
    # sched_getaffinity (the cores this process may run on) is Linux's: asked only there.
    cores = len(os.sched_getaffinity(0)) if forkable else 1
    count = workers if workers is not None else cores
    if count > 1 and len(distinct) >= minimum and forkable:
        chunks = [distinct[i : i + CHUNK] for i in range(0, len(distinct), CHUNK)]
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
                made: Made = {}
                for part in pool.map(encode_chunk, chunks):
                    made.update(part)
                return made
        except (OSError, BrokenProcessPool):
            pass  # made here instead, below
    return encode_chunk(distinct)


def encode_chunk(urls: list[str]) -> Made:
    """``urls`` with their codes, made in this process (a worker's task)."""
    made: Made = {}
    for url in urls:
        try:
            made[url] = encode(url)
        except QrError as exc:
            made[url] = exc
    return made


def build(rows: Sequence[LinkRow], fmt: str, *, reuse: str | Path | None = None) -> list[QrFile]:
    """A QR code for each row, in the format ``fmt`` (``svg`` or ``png``). With ``reuse`` (the
    directory the codes will be written to), a file there of the same name that provably holds
    the code (its stamp: the same title, URL and format, made the same way, its bytes as they
    were written) is taken as it is, not encoded again.

    Raises ``QrError`` naming every link whose URL no QR code can hold (then nothing should
    be written: the set of codes would be incomplete without saying so in the files).
    """
    names = filenames(rows, fmt)
    files: list[QrFile] = []
    too_long: list[str] = []
    render = render_png if fmt == "png" else render_svg
    kept: dict[int, stamp.Stamped] = {}
    if reuse is not None:
        for i, (row, name) in enumerate(zip(rows, names, strict=True)):
            label = f"{row.channel} / {row.title}"
            found = stamp.read(Path(reuse) / name, fmt=fmt, title=label, url=row.url)
            if found is not None:
                kept[i] = found
    made = encode_all(row.url for i, row in enumerate(rows) if i not in kept)
    for i, (row, name) in enumerate(zip(rows, names, strict=True)):
        label = f"{row.channel} / {row.title}"
        if i in kept:
            files.append(QrFile(name, kept[i].content, row, kept[i].version, kept[i].error))
            continue
        code = made[row.url]
        if isinstance(code, QrError):
            too_long.append(f"  {visible(row.channel)} / {visible(row.title)}: {code}")
            continue
        content = render(code, title=label, url=row.url)
        files.append(QrFile(name, content, row, int(code.version), code.error.upper()))
    if too_long:
        n = len(too_long)
        raise QrError(
            f"{plural(n, 'link')} can't be made into a QR code; "
            "no file was written:\n" + "\n".join(too_long) + "\nShorten the message "
            "(fewer non-Latin characters or emoji make a shorter URL) and apply again."
        )
    return files
