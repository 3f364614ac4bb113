"""QR codes of message links, for posters, flyers and events.

Made with segno (pure Python, no system libraries). :func:`build` is pure: links in, file
names and bytes out; :func:`write` is the one function that touches the disk, and it never
writes outside the directory it is given.

Choices, for print:

- **Error correction Q** (about 25% of the code can be lost): a printed code gets scuffed,
  folded, smudged, laminated with glare or half covered by a thumb. Q survives that, while H
  (30%) would make the codes of these long, percent-encoded URLs markedly denser (a higher
  version, smaller modules at the same print size) for 5% more. Where a code is small
  enough, segno raises it to H at no cost in size. A URL too long for Q falls back to M, then
  L, with a warning (print that code larger, keep it clean); one too long even for L (a
  500-character message in CJK script is) is an error, and nothing is written.
- **Mixed encoding modes**: a URL's percent-encoded part (``%F0%9F%90%B6``: uppercase hex,
  digits, ``%``) fits QR's alphanumeric mode at 5.5 bits a character instead of 8, so a
  message of emoji fits in a code at all. The decoded text is the exact URL.
- **Quiet zone** of 4 modules, as the QR standard requires; **1 mm per module**: SVG is sized
  in millimetres, PNG has 12 pixels per module at 300 dpi (whole pixels, so it scales up
  without blur), well above the ~0.4 mm a phone needs at arm's length.
- **Metadata**: the title is "channel / link title", the description the URL: SVG
  ``<title>`` and ``<desc>``; PNG ``iTXt`` ``Title`` and ``Description`` chunks (UTF-8) and a
  ``tEXt`` ``URL`` chunk (segno writes no PNG text, so they are added to its output here).
- **File names** ``{channel}--{title-slug}.{ext}``: ASCII, lower case, no path separator, no
  leading dot, bounded length. Titles are transliterated to ASCII first (anyascii: "Bio Link
  - Español" is ``bio-link-espanol``); a title the slug can't spell (too long, nothing left)
  gets a short hash of the exact title, and titles that slug alike get theirs too, so every
  name is unique and the same links always get the same names.
- **Runs say what changed**: a file is rewritten only when its bytes change, so a second run
  over the same links writes nothing, and the files written are the codes to reprint. Files
  of links that no longer exist (named as this module names them, in the channels asked for)
  are listed as stale, and removed when asked (``prune``).
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anyascii import anyascii

from reconciler.errors import QrError
from reconciler.files import reason, write_atomic
from reconciler.links import LinkRow
from reconciler.model import visible
from reconciler.words import plural

if TYPE_CHECKING:
    from segno import QRCode

#: Tried in order: the first level whose code can hold the URL wins.
ERROR_LEVELS = ("Q", "M", "L")
RECOVERY = {"L": "7%", "M": "15%", "Q": "25%", "H": "30%"}
QUIET_ZONE = 4
PNG_SCALE = 12
PNG_DPI = 300
SVG_MODULE_MM = 1
FORMATS = ("svg", "png")

#: Longest title slug and channel part of a file name (the whole name stays far below the
#: 255 bytes file systems allow).
MAX_SLUG = 60
MAX_CHANNEL = 40
HASH_CHARS = 8

#: Runs of at least this many characters of QR's alphanumeric set get their own segment:
#: shorter ones save fewer bits than a segment header costs.
_ALNUM_RUN = re.compile(r"([0-9A-Z $%*+\-./:]{16,})")


@dataclass(frozen=True, slots=True)
class QrFile:
    """One QR code, ready to write: its file name (no directory), bytes, and what it holds."""

    filename: str
    content: bytes
    row: LinkRow
    version: int
    error: str

    @property
    def downgraded(self) -> bool:
        """Whether the URL needed less error correction than Q."""
        return self.error in ("M", "L")


# --- encoding ------------------------------------------------------------------------------


def encode(url: str) -> QRCode:
    """The QR code (a ``segno.QRCode``) of ``url``, at the first of ``ERROR_LEVELS`` that
    holds it, in the smallest version. Raises ``QrError`` when even L can't."""
    import segno
    from segno import DataOverflowError

    candidates: list[dict[str, Any]] = []
    if url.isascii():
        candidates.append({"content": url})
        parts = [p for p in _ALNUM_RUN.split(url) if p]
        if len(parts) > 1:
            # A list is a list of segments (segno's manual segmentation); segno picks each
            # one's mode itself: alphanumeric for the runs, byte for the rest.
            candidates.append({"content": parts})
    else:
        # Not the URL rule's output (it is ASCII), but a workspace may hold anything:
        # UTF-8, declared by an ECI header so a reader can't take it for Latin-1.
        candidates.append({"content": url, "encoding": "utf-8", "eci": True})
    for error in ERROR_LEVELS:
        best: QRCode | None = None
        for candidate in candidates:
            try:
                code = segno.make(**candidate, error=error, micro=False)
            except DataOverflowError:
                continue
            # micro=False: the version is a number (only Micro QR versions are "M1".."M4").
            if best is None or int(code.version) < int(best.version):
                best = code
        if best is not None:
            return best
    raise QrError(
        f"the URL is {len(url)} characters long, more than a QR code can hold "
        "even with the lowest error correction (L)"
    )


def render_png(code: QRCode, *, title: str, url: str) -> bytes:
    """``code`` as a PNG (1 mm a module at 300 dpi, quiet zone of 4) with ``Title`` and
    ``Description`` (the URL) iTXt chunks (UTF-8) and a ``URL`` tEXt chunk."""
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=PNG_SCALE, border=QUIET_ZONE, dpi=PNG_DPI)
    chunks = [
        _itxt("Title", title),
        _itxt("Description", url),
        _chunk(b"tEXt", b"URL\x00" + _latin1(url)),
        _chunk(b"tEXt", b"Software\x00reconciler"),
    ]
    return _insert_before_idat(buffer.getvalue(), b"".join(chunks))


def render_svg(code: QRCode, *, title: str, url: str) -> bytes:
    """``code`` as an SVG in millimetres (1 mm a module, quiet zone of 4), with ``<title>``
    and ``<desc>`` (the URL)."""
    buffer = io.BytesIO()
    code.save(
        buffer,
        kind="svg",
        scale=SVG_MODULE_MM,
        unit="mm",
        border=QUIET_ZONE,
        title=_xml_text(title),
        desc=_xml_text(url),
        svgclass=None,
        lineclass=None,
    )
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt(keyword: str, text: str) -> bytes:
    """An uncompressed iTXt chunk: keyword, flags, no language, then UTF-8 text."""
    body = keyword.encode("latin-1") + b"\x00\x00\x00" + b"\x00" + b"\x00"
    return _chunk(b"iTXt", body + visible(text).encode("utf-8"))


def _latin1(text: str) -> bytes:
    return visible(text).encode("latin-1", "backslashreplace")


def _insert_before_idat(png: bytes, extra: bytes) -> bytes:
    """``png`` with ``extra`` chunks before its first IDAT (text chunks may go anywhere
    between IHDR and IEND; before the image data, readers that stop early still see them)."""
    pos = 8  # the signature
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            return png[:pos] + extra + png[pos:]
        pos += 12 + length
    raise AssertionError("segno wrote a PNG without image data")


#: Characters XML 1.0 can't hold even escaped (after ``visible`` has made the C0 controls
#: and lone surrogates visible escapes).
_NOT_XML = re.compile("[\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text))


# --- file names ----------------------------------------------------------------------------


def title_hash(title: str) -> str:
    """A short, stable hash of the exact title (what makes a lossy slug unique)."""
    data = title.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:HASH_CHARS]


def slug(text: str, *, max_len: int = MAX_SLUG) -> tuple[str, bool]:
    """``text`` as lower-case ASCII letters and digits joined by ``-`` (transliterated first:
    "Español" is ``espanol``, "日本語" ``ribenyu``, an emoji its name), and whether that
    can't stand for the title alone (cut short, or empty)."""
    ascii_text = anyascii(text)
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    cut = base[:max_len].rstrip("-")
    return cut, cut != base or not cut


def channel_part(account: str) -> str:
    """The channel's part of a file name: its account in lower case (letters, digits, ``_``
    and ``.`` as TikTok allows), anything else a ``-``, never a leading dot."""
    base = re.sub(r"[^a-z0-9_.]+", "-", account.lower()).lstrip(".-")
    return base[:MAX_CHANNEL].rstrip(".-") or "channel"


def filenames(rows: Sequence[LinkRow], ext: str) -> list[str]:
    """One file name per row, in the same order: unique (ignoring case, for the file systems
    that do), stable (the same links give the same names), ASCII, no directory part."""
    if ext not in FORMATS:
        raise ValueError(f"unknown format {ext!r}")
    plain: list[str] = []
    hashed: list[str] = []
    for row in rows:
        text, lossy = slug(row.title)
        head = f"{channel_part(row.channel)}--"
        with_hash = f"{text}-{title_hash(row.title)}" if text else f"link-{title_hash(row.title)}"
        plain.append(head + (with_hash if lossy else text))
        hashed.append(head + with_hash)
    # Titles that slug alike all get their hash: neither keeps the plain name, so which one
    # does can't depend on the order of the links.
    counts = Counter(name.casefold() for name in plain)
    names = [h if counts[p.casefold()] > 1 else p for p, h in zip(plain, hashed, strict=True)]
    # Exactly equal titles (a workspace may hold two) share a hash too: number them, in
    # creation order.
    order = sorted(range(len(rows)), key=lambda i: (names[i], rows[i].seq, rows[i].link_id))
    used: set[str] = set()
    final = [""] * len(rows)
    for i in order:
        name, n = names[i], 1
        while name.casefold() in used:
            n += 1
            name = f"{names[i]}-{n}"
        used.add(name.casefold())
        final[i] = f"{name}.{ext}"
    return final


# --- building and writing ------------------------------------------------------------------


def build(rows: Sequence[LinkRow], fmt: str) -> list[QrFile]:
    """A QR code for each row, in the format ``fmt`` (``svg`` or ``png``).

    Raises ``QrError`` naming every link whose URL no QR code can hold (then nothing should
    be written: the set of codes would be incomplete without saying so in the files).
    """
    names = filenames(rows, fmt)
    files: list[QrFile] = []
    too_long: list[str] = []
    for row, name in zip(rows, names, strict=True):
        try:
            code = encode(row.url)
        except QrError as exc:
            too_long.append(f"  {visible(row.channel)} / {visible(row.title)}: {exc}")
            continue
        label = f"{row.channel} / {row.title}"
        render = render_png if fmt == "png" else render_svg
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


@dataclass(frozen=True, slots=True)
class Written:
    """What ``write`` did: the files written (new or changed), those left as they were (the
    same bytes), and the stale ones (codes of links that no longer exist), removed or not."""

    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]
    stale: tuple[Path, ...]
    pruned: bool


#: The name of a file this module writes: channel part, ``--``, slug, extension.
_OURS = re.compile(r"(?P<channel>[a-z0-9_.-]+?)--[a-z0-9-]+\.(svg|png)")


def stale_scope(
    rows: Sequence[LinkRow], *, channels: Sequence[str], titles: Sequence[str], whole: bool
) -> frozenset[str] | None:
    """Whose files in the directory count as stale when no link has their name: None for
    any channel's (``whole``: every link of the workspace was asked for), the channel parts
    of ``channels`` (or of the rows' channels, for a config's), none at all when only some
    ``titles`` were asked for (the rest of a channel is not known to be gone)."""
    if titles:
        return frozenset()
    if channels:
        return frozenset(channel_part(c) for c in channels)
    if whole:
        return None
    return frozenset(channel_part(r.channel) for r in rows)


def write(
    files: Sequence[QrFile],
    out_dir: str | Path,
    *,
    scope: frozenset[str] | None = frozenset(),
    prune: bool = False,
) -> Written:
    """Write ``files`` into ``out_dir`` (created if missing), each atomically and only when
    its bytes differ from the file there. Files named as this module names them, of a
    channel in ``scope`` (None: any), that are not among ``files`` in either format, are
    stale: listed, and removed when ``prune``.

    Raises ``QrError`` for a directory that can't be made or written, and never writes (or
    removes) outside it: a name with a directory part is refused, and an existing file (or
    symbolic link) of the same name is replaced, not followed."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise QrError(f"cannot write QR codes to {out}: it is a file, not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        root = out.resolve(strict=True)
    except OSError as exc:
        raise QrError(f"cannot write QR codes to {out}: {reason(exc)}") from None
    if not root.is_dir():
        raise QrError(f"cannot write QR codes to {out}: not a directory")
    written, unchanged = [], []
    for item in files:
        name = item.filename
        if (
            not name
            or name in (".", "..")
            or name.startswith(".")
            or "/" in name
            or "\\" in name
            or "\x00" in name
            or (root / name).parent != root
        ):
            raise QrError(f"refusing to write {name!r}: not a plain file name inside {out}")
        target = root / name
        if _holds(target, item.content):
            unchanged.append(out / name)
            continue
        try:
            write_atomic(target, item.content)
        except OSError as exc:
            raise QrError(f"cannot write {out / name}: {reason(exc)}") from None
        written.append(out / name)
    stale = _stale(root, {Path(f.filename).stem for f in files}, scope)
    if prune:
        for name in stale:
            try:
                (root / name).unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise QrError(f"cannot remove {out / name}: {reason(exc)}") from None
    return Written(
        written=tuple(written),
        unchanged=tuple(unchanged),
        stale=tuple(out / name for name in stale),
        pruned=prune,
    )


def _holds(target: Path, content: bytes) -> bool:
    """Whether ``target`` is a regular file (not a symbolic link) with exactly ``content``."""
    try:
        return not target.is_symlink() and target.is_file() and target.read_bytes() == content
    except OSError:
        return False


def _stale(root: Path, current: set[str], scope: frozenset[str] | None) -> list[str]:
    """The names in ``root`` of codes this module wrote whose stem no current file has, of a
    channel in ``scope`` (None: any), sorted."""
    if scope is not None and not scope:
        return []
    out = []
    for entry in root.iterdir():
        match = _OURS.fullmatch(entry.name)
        if match is None or Path(entry.name).stem in current or entry.is_symlink():
            continue
        if (scope is None or match["channel"] in scope) and entry.is_file():
            out.append(entry.name)
    return sorted(out)
