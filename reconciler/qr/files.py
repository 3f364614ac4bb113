"""A QR code's file: its name (ASCII, transliterated, unique, stable) and writing a set of them
into a directory, only what changed, listing the stale ones (``reconciler.qr`` says why)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from anyascii import anyascii

from reconciler.errors import QrError
from reconciler.files import reason, write_atomic
from reconciler.links import LinkRow
from reconciler.qr import stamp

FORMATS = ("svg", "png")

#: Longest title slug and channel part of a file name (the whole name stays far below the
#: 255 bytes file systems allow).
MAX_SLUG = 60
MAX_CHANNEL = 40
HASH_CHARS = 8


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
    """The names in ``root`` of codes this module wrote (named as it names them, and
    carrying its stamp) whose stem no current file has, of a channel in ``scope`` (None:
    any), sorted."""
    if scope is not None and not scope:
        return []
    out = []
    for entry in root.iterdir():
        match = _OURS.fullmatch(entry.name)
        if match is None or Path(entry.name).stem in current or entry.is_symlink():
            continue
        if (scope is None or match["channel"] in scope) and stamp.made_here(entry):
            out.append(entry.name)
    return sorted(out)
