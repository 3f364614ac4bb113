"""The stamp a code's file carries, so a re-run can tell, without encoding anything, that a
file already holds exactly the code it would write.

A stamp is ``KEY VERSION ERROR BODY``: ``KEY`` the sha256 of what decides the file's bytes
(the stamp's own version, segno's version, the format, the title and the URL), ``VERSION``
and ``ERROR`` the code's, and ``BODY`` the sha256 of the file without its stamp. A file
proves it holds the code of a (format, title, URL) when its stamp names that key and the rest
of it still hashes to ``BODY``: byte for byte what was written, not merely a file that claims
the URL. A PNG carries it as a ``tEXt`` chunk ``reconciler-qr`` before its image data; an SVG
as a comment just before ``</svg>``.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

#: Bumped whenever how a file is made changes (the rendering, the metadata, the stamp), so
#: files made the old way are made again.
STAMP_VERSION = "1"
KEYWORD = b"reconciler-qr"
#: A file larger than this is no code of ours (a version 40 PNG is ~0.6 MB): not read.
MAX_FILE_BYTES = 4 * 2**20

_SVG_STAMP = re.compile(rb"<!-- reconciler-qr ([0-9a-f]{64} [0-9]{1,2} [LMQH] [0-9a-f]{64}) -->")
_TEXT = re.compile(rb"([0-9a-f]{64}) ([0-9]{1,2}) ([LMQH]) ([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class Stamped:
    """A file that holds a code: its bytes, and the code's version and error level."""

    content: bytes
    version: int
    error: str


def key(fmt: str, title: str, url: str) -> str:
    """The sha256 (hex) of everything that decides a code file's bytes."""
    import segno  # deferred like the encoder's: only a run that makes codes pays for it

    parts = (STAMP_VERSION, segno.__version__, fmt, title, url)
    data = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _text(fmt: str, title: str, url: str, body: bytes, version: int, error: str) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{key(fmt, title, url)} {version} {error} {digest}".encode("ascii")


def stamp_svg(svg: bytes, *, title: str, url: str, version: int, error: str) -> bytes:
    """``svg`` with its stamp, a comment just before its closing tag."""
    head, end, tail = svg.rpartition(b"</svg>")
    if not end:
        raise AssertionError("segno wrote an SVG without its closing tag")
    text = _text("svg", title, url, svg, version, error)
    return head + b"<!-- reconciler-qr " + text + b" -->" + end + tail


def stamp_chunk(png: bytes, *, title: str, url: str, version: int, error: str) -> bytes:
    """The ``tEXt`` chunk stamping ``png`` (the PNG it will be inserted into)."""
    return png_chunk(b"tEXt", KEYWORD + b"\x00" + _text("png", title, url, png, version, error))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def read(path: Path, *, fmt: str, title: str, url: str) -> Stamped | None:
    """The file at ``path`` when it provably holds the code of ``title`` and ``url`` in
    ``fmt`` as this version of reconciler writes it; else None (no file, a symbolic link,
    unreadable, no stamp, another key, or bytes changed since)."""
    content = _content(path)
    if content is None:
        return None
    found = _svg_stamp(content) if fmt == "svg" else _png_stamp(content)
    if found is None:
        return None
    text, body = found
    match = _TEXT.fullmatch(text)
    if match is None or match[1].decode() != key(fmt, title, url):
        return None
    if hashlib.sha256(body).hexdigest() != match[4].decode():
        return None
    return Stamped(content=content, version=int(match[2]), error=match[3].decode())


def made_here(path: Path) -> bool:
    """Whether the file at ``path`` carries a stamp (a code reconciler wrote, of any title
    and URL): what ``qr --prune`` may remove, and nothing else in the directory."""
    content = _content(path)
    if content is None:
        return False
    found = _svg_stamp(content) if path.suffix == ".svg" else _png_stamp(content)
    return found is not None and _TEXT.fullmatch(found[0]) is not None


def _content(path: Path) -> bytes | None:
    """The bytes of the regular file at ``path`` (not a symbolic link, at most
    ``MAX_FILE_BYTES``); None when it is none of that or can't be read."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _svg_stamp(content: bytes) -> tuple[bytes, bytes] | None:
    """(the stamp's text, the SVG without it), or None."""
    matches = list(_SVG_STAMP.finditer(content))
    if len(matches) != 1:
        return None
    (match,) = matches
    return match[1], content[: match.start()] + content[match.end() :]


def _png_stamp(content: bytes) -> tuple[bytes, bytes] | None:
    """(the stamp chunk's text, the PNG without that chunk), or None."""
    if not content.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    pos, found = 8, None
    while pos + 8 <= len(content):
        (length,) = struct.unpack(">I", content[pos : pos + 4])
        kind, end = content[pos + 4 : pos + 8], pos + 12 + length
        if end > len(content):
            return None
        data = content[pos + 8 : pos + 8 + length]
        if kind == b"tEXt" and data.startswith(KEYWORD + b"\x00"):
            if found is not None:
                return None
            found = (data[len(KEYWORD) + 1 :], content[:pos] + content[end:])
        pos = end
    return found
