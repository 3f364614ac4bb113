"""A QR code as a PNG: black and white, one bit a pixel, ``scale`` pixels a module.

The same bytes as segno's ``write_png`` (dark black, light white, 1-bit greyscale, a ``pHYs``
chunk for the dpi, each module row one scanline then ``scale - 1`` "Up" scanlines, zlib level
9), made from whole rows at once instead of a pixel at a time: segno's writer was ~13 ms of a
version 8 code, more than encoding it (cProfile, 100 codes). ``tests/test_qr.py`` holds the
two writers together byte for byte.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

from reconciler.qr.stamp import png_chunk

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A module's bit as a pixel's: dark is 0 (black), light 1 (white) in 1-bit greyscale.
_PIXEL = bytes.maketrans(b"\x00\x01", b"10")


def write(matrix: Sequence[bytes | bytearray], *, scale: int, border: int, dpi: int) -> bytes:
    """The PNG of ``matrix`` (rows of 0 and 1), ``scale`` pixels a module, a quiet zone of
    ``border`` modules, ``dpi`` dots per inch."""
    size = len(matrix) + 2 * border
    pixels = size * scale
    row_bytes = (pixels + 7) // 8
    pad = "0" * (row_bytes * 8 - pixels)
    widen = str.maketrans({"0": "0" * scale, "1": "1" * scale})
    quiet = "1" * (border * scale)
    light = b"\x00" + _packed("1" * pixels + pad, row_bytes)
    same_as_above = (b"\x02" + bytes(row_bytes)) * (scale - 1)
    idat = bytearray(light * (border * scale))
    for row in matrix:
        bits = bytes(row).translate(_PIXEL).decode("ascii").translate(widen)
        idat += b"\x00" + _packed(quiet + bits + quiet + pad, row_bytes)
        idat += same_as_above
    idat += light * (border * scale)
    per_metre = int(dpi // 0.0254)
    return b"".join(
        [
            _SIGNATURE,
            png_chunk(b"IHDR", struct.pack(">2I5B", pixels, pixels, 1, 0, 0, 0, 0)),
            png_chunk(b"pHYs", struct.pack(">LLB", per_metre, per_metre, 1)),
            png_chunk(b"IDAT", zlib.compress(idat, 9)),
            png_chunk(b"IEND", b""),
        ]
    )


def _packed(bits: str, length: int) -> bytes:
    return int(bits, 2).to_bytes(length, "big")
