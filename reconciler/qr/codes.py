"""Encoding a link's URL as a QR code, and the code as a file's bytes (PNG, SVG): the choices
for print are in the package's docstring (``reconciler.qr``)."""

from __future__ import annotations

import io
import re
import struct
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reconciler.errors import QrError
from reconciler.model import visible
from reconciler.qr import png, stamp

if TYPE_CHECKING:
    from segno import QRCode

#: Tried in order: the first level whose code can hold the URL wins.
ERROR_LEVELS = ("Q", "M", "L")
RECOVERY = {"L": "7%", "M": "15%", "Q": "25%", "H": "30%"}
QUIET_ZONE = 4
PNG_SCALE = 12
PNG_DPI = 300
SVG_MODULE_MM = 1

#: Runs of at least this many characters of QR's alphanumeric set get their own segment:
#: shorter ones save fewer bits than a segment header costs.
_ALNUM_RUN = re.compile(r"([0-9A-Z $%*+\-./:]{16,})")


@lru_cache(maxsize=1024)
def encode(url: str) -> QRCode:
    """The QR code (a ``segno.QRCode``) of ``url``, at the first of ``ERROR_LEVELS`` that
    holds it, in the smallest version, its mask chosen by the standard's penalty rules.
    Raises ``QrError`` when even L can't. A URL met again (two links sharing one) is not
    encoded twice: the last codes made are kept (a code is never changed once made)."""
    import segno
    from segno import DataOverflowError

    from reconciler.qr import masks

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
    # Each candidate's version is found as segno finds it (its segments, then the smallest
    # version holding them); only the smallest is made, with one fixed mask (segno then skips
    # applying and scoring all eight masks, most of a code's making), and ``masks`` chooses
    # its mask by the standard's penalty rules, row at a time, and re-masks it: the code
    # segno's own choice would give (tests/test_qr.py::
    # test_probing_with_one_mask_picks_the_same_code holds the two together). Measured on 100
    # URLs with emoji and accents (a loaded machine): 26 ms a code -> 8 ms.
    for error in ERROR_LEVELS:
        best: tuple[int, dict[str, Any]] | None = None
        for candidate in candidates:
            segments = masks.encoder.prepare_data(
                candidate["content"], None, candidate.get("encoding")
            )
            try:
                version = masks.encoder.find_version(
                    segments, masks.ERROR_LEVEL[error], eci=candidate.get("eci", False), micro=False
                )
            except DataOverflowError:
                continue
            if best is None or version < best[0]:
                best = (version, candidate)
        if best is not None:
            probe = masks.encoder.encode(
                **best[1], version=best[0], mask=masks.PROBE, error=error, micro=False
            )
            # QRCode(code) is how segno.make wraps what it encodes (its stub leaves the
            # argument out): an object with matrix, version, error, mask and segments.
            made: Any = segno.QRCode
            return made(masks.chosen(probe))  # type: ignore[no-any-return]
    raise QrError(
        f"the URL is {len(url)} characters long, more than a QR code can hold "
        "even with the lowest error correction (L)"
    )


def render_png(code: QRCode, *, title: str, url: str) -> bytes:
    """``code`` as a PNG (1 mm a module at 300 dpi, quiet zone of 4) with ``Title`` and
    ``Description`` (the URL) iTXt chunks (UTF-8), a ``URL`` tEXt chunk, and its stamp
    (``stamp``: what lets a re-run leave it alone without encoding it again)."""
    image = png.write(code.matrix, scale=PNG_SCALE, border=QUIET_ZONE, dpi=PNG_DPI)
    chunks = [
        _itxt("Title", title),
        _itxt("Description", url),
        _chunk(b"tEXt", b"URL\x00" + _latin1(url)),
        _chunk(b"tEXt", b"Software\x00reconciler"),
    ]
    png_bytes = _insert_before_idat(image, b"".join(chunks))
    version, error = int(code.version), code.error.upper()
    mark = stamp.stamp_chunk(png_bytes, title=title, url=url, version=version, error=error)
    return _insert_before_idat(png_bytes, mark)


def render_svg(code: QRCode, *, title: str, url: str) -> bytes:
    """``code`` as an SVG in millimetres (1 mm a module, quiet zone of 4), with ``<title>``
    and ``<desc>`` (the URL), and its stamp (``stamp``)."""
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
    version, error = int(code.version), code.error.upper()
    return stamp.stamp_svg(buffer.getvalue(), title=title, url=url, version=version, error=error)


_chunk = stamp.png_chunk


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
    raise AssertionError("a PNG without image data")


#: Characters XML 1.0 can't hold even escaped (after ``visible`` has made the C0 controls
#: and lone surrogates visible escapes).
_NOT_XML = re.compile("[\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text))
