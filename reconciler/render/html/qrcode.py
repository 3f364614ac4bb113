"""A link's QR code on the page: the same code ``reconciler qr`` prints (``qr.encode``: error
correction Q where it fits), carried as its modules (``data-qr``) and drawn by the page's
script as an inline SVG when its card nears the screen, 3 CSS pixels a module with the quiet
zone of 4 the standard asks for.

Why not inline SVG written here: segno's SVG of a version 8 code is ~3.9 KB, its modules ~0.4 KB
as base64, and a page of 10,000 links held 57 MB of SVG a browser had to parse and lay out at
once; drawn lazily, only the codes on screen exist as elements.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import TYPE_CHECKING

from reconciler.errors import QrError
from reconciler.qr import QUIET_ZONE, encode_all

if TYPE_CHECKING:
    from segno import QRCode

#: CSS pixels a module: a code of a long URL (version 20, 97 modules) is 315 px wide, which
#: a phone camera reads off a screen; the page scales it down to the column's width.
SCALE = 3


def all_codes(urls: Iterable[str]) -> dict[str, str | None]:
    """Each URL's ``data-qr`` (``modules``), or None when no QR code can hold it; made at
    once (``qr.encode_all``: each URL once, on every core when there are many)."""
    return {
        url: None if isinstance(code, QrError) else modules(code)
        for url, code in encode_all(urls).items()
    }


def modules(code: QRCode) -> str:
    """``code`` as ``data-qr`` carries it: ``SCALE:QUIET:WIDTH:BASE64`` (CSS pixels a
    module, modules of quiet zone, modules a side, then the modules row by row: dark 1, the
    first module the highest bit of the first byte)."""
    matrix = code.matrix
    bits = "".join(bytes(row).translate(_BITS).decode("ascii") for row in matrix)
    bits += "0" * (-len(bits) % 8)
    packed = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return f"{SCALE}:{QUIET_ZONE}:{len(matrix)}:{base64.b64encode(packed).decode('ascii')}"


_BITS = bytes.maketrans(b"\x00\x01", b"01")
