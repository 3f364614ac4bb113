"""Choosing a QR code's data mask by the standard's penalty rules (ISO/IEC 18004:2015 7.8.3),
scored on whole rows at a time.

segno chooses the mask the same way, one module at a time in pure Python: applying and scoring
its eight masks was ~70% of making a code (cProfile, 100 codes of version 8). Here a code made
with mask 0 is unmasked and each mask's matrix is scored from row bit strings (regular
expressions and ``str.find`` for the runs and finder-like patterns, integer bit operations for
the 2x2 blocks), giving segno's scores exactly, quirks included (what it scores is the matrix
before format and version information are written, their areas light). This restates segno's
``mask_scores``: ``tests/test_qr_masks.py`` holds the two together on every mask of many
codes, and checks the mask chosen is segno's own choice.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise
from typing import Any

from segno import consts as _segno_consts
from segno import encoder as _segno_encoder

#: segno's encoder module has no type hints (only its public API has): its functions are Any.
encoder: Any = _segno_encoder
ERROR_LEVEL: dict[str, int] = dict(_segno_consts.ERROR_MAPPING)
#: The mask a code is first made with (any would do: each is undone before scoring).
PROBE = 0

_RUN = re.compile(r"00000+|11111+")  # the same runs as 0{5,}|1{5,}, ~40% faster to find
_FINDER_LIKE = "1011101"
_TO_BITS = bytes.maketrans(b"\x00\x01\x02", b"010")
_DATA = bytes.maketrans(b"\x00\x01\x02", b"001")
_FROM_BITS = bytes.maketrans(b"01", b"\x00\x01")


@cache
def _layout(width: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """For a QR code ``width`` modules wide, as row bit masks (column 0 the highest bit): the
    dark modules of its function patterns as they are when masks are scored, its data region,
    and each mask's pattern over the data region."""
    template = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(template, width, width)
    encoder.add_alignment_patterns(template, width, width)
    function = tuple(int(bytes(row).translate(_TO_BITS), 2) for row in template)
    data = tuple(int(bytes(row).translate(_DATA), 2) for row in template)
    patterns = []
    for fn in encoder.get_data_mask_functions(is_micro=False):
        rows = []
        for i in range(width):
            bits = "".join("1" if fn(i, j) else "0" for j in range(width))
            rows.append(int(bits, 2) & data[i])
        patterns.append(tuple(rows))
    return function, data, tuple(patterns)


def best_mask(matrix: tuple[bytearray, ...], mask: int) -> int:
    """The mask the standard's penalty rules choose (the lowest score, the first on a tie)
    for the QR code (not Micro QR) whose final ``matrix`` was made with ``mask``."""
    width = len(matrix)
    function, data, patterns = _layout(width)
    made = patterns[mask]
    unmasked = [
        (int(bytes(row).translate(_TO_BITS), 2) ^ made[i]) & data[i] for i, row in enumerate(matrix)
    ]
    best, best_score = 0, -1
    for number, pattern in enumerate(patterns):
        rows = [function[i] | (unmasked[i] ^ pattern[i]) for i in range(width)]
        score = sum(scores(rows, width))
        if best_score < 0 or score < best_score:
            best, best_score = number, score
    return best


def chosen(code: Any) -> Any:
    """``code`` (segno's ``encoder.Code`` of a QR code made with ``PROBE``) with the mask the
    standard's penalty rules choose: itself when that is ``PROBE``, else re-masked (its data
    modules, then its format information, which names the mask)."""
    mask = best_mask(code.matrix, PROBE)
    if mask == PROBE:
        return code
    width = len(code.matrix)
    patterns = _layout(width)[2]  # each over the data region only
    flip = [(patterns[PROBE][i] ^ patterns[mask][i]) for i in range(width)]
    matrix = tuple(
        bytearray(
            format(int(bytes(row).translate(_TO_BITS), 2) ^ flip[i], f"0{width}b")
            .encode()
            .translate(_FROM_BITS)
        )
        for i, row in enumerate(code.matrix)
    )
    encoder.add_format_info(matrix, code.version, code.error, mask)
    return code._replace(matrix=matrix, mask=mask)


def scores(rows: list[int], width: int) -> tuple[int, int, int, int]:
    """The penalty scores (N1, N2, N3, N4) of a matrix given as row bit masks, as segno's
    ``encoder.mask_scores`` computes them."""
    text = [format(row, f"0{width}b") for row in rows]
    # Every row, then every column, in one string: "2" between lines keeps a run or a
    # pattern from spanning two of them.
    lines = "2".join([*text, *("".join(column) for column in zip(*text, strict=True))])
    runs = _RUN.findall(lines)
    n1 = sum(map(len, runs)) - 2 * len(runs)
    full = (1 << width) - 1
    pairs = 0
    for above, below in pairwise(rows):
        same_vertically = ~(above ^ below) & full
        same_horizontally = ~(below ^ (below >> 1)) & (full >> 1)
        pairs += (same_vertically & (same_vertically >> 1) & same_horizontally).bit_count()
    dark = sum(row.bit_count() for row in rows)
    n4 = 10 * int(abs(float(dark) / (width**2) * 100 - 50) / 5)
    return n1, 3 * pairs, _finder_like(lines, width), n4


def _finder_like(lines: str, size: int) -> int:
    """segno's N3 of lines ``size`` long joined by one character: 40 for each 1:1:3:1:1
    pattern with a light side (4 modules, or the line's end), its search resuming as segno's
    does, so overlapping patterns count as they do there."""
    count, stride = 0, size + 1
    idx = lines.find(_FINDER_LIKE)
    while idx != -1:
        at, offset = idx % stride, idx + 7
        if (
            at in (0, size - 7)
            or "1" not in lines[idx - min(at, 4) : idx]
            or "1" not in lines[offset : offset + min(4, size - at - 7)]
        ):
            count += 40
        else:
            offset = idx + 4
        idx = lines.find(_FINDER_LIKE, offset)
    return count
