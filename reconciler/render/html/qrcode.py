"""A link's QR code as inline SVG, for the page: the same code ``reconciler qr`` prints
(``qr.encode``: error correction Q where it fits), drawn with segno's inline SVG (no XML
declaration, no namespace, so the page holds no URL but the links'), 3 CSS pixels a module
with the quiet zone of 4 the standard asks for."""

from __future__ import annotations

from reconciler.errors import QrError
from reconciler.qr import QUIET_ZONE, encode

#: CSS pixels a module: a code of a long URL (version 20, 97 modules) is 315 px wide, which
#: a phone camera reads off a screen; the page scales it down to the column's width.
SCALE = 3


def inline_svg(url: str) -> str | None:
    """The ``<svg>`` element of ``url``'s QR code, or None when no QR code can hold it."""
    try:
        code = encode(url)
    except QrError:
        return None
    return str(code.svg_inline(scale=SCALE, border=QUIET_ZONE, svgclass=None, lineclass=None))
