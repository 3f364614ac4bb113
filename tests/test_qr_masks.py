"""The mask chooser of ``reconciler.qr.masks`` against segno's own: the same four penalty
scores on every mask of many codes, and the same mask chosen."""

from __future__ import annotations

import pytest
import segno
from segno import encoder

from reconciler.model import link_url
from reconciler.qr import masks

MESSAGES = ["Hi!", "日本語 🐶" * 12, "x" * 400, "a%b " * 60, "Café 🎉 " * 30, "0" * 90]


def _as_scored(code: segno.QRCode) -> tuple[bytearray, ...]:
    """``code``'s matrix as segno scores it: before format and version information (their
    areas light), the function patterns as they are then."""
    width = len(code.matrix)
    template = encoder.make_matrix(width, width)
    encoder.add_finder_patterns(template, width, width)
    encoder.add_alignment_patterns(template, width, width)
    return tuple(
        bytearray(
            code.matrix[i][j] if template[i][j] == 0x2 else template[i][j] for j in range(width)
        )
        for i in range(width)
    )


@pytest.mark.parametrize("message", MESSAGES)
def test_every_mask_scores_as_segno_scores_it(message: str) -> None:
    url = link_url("acmepets", "ref", message)
    for mask in range(8):
        matrix = _as_scored(segno.make(url, error="Q", micro=False, mask=mask))
        width = len(matrix)
        rows = [int("".join(str(bit) for bit in row), 2) for row in matrix]
        assert masks.scores(rows, width) == tuple(encoder.mask_scores(matrix, width, width))


@pytest.mark.parametrize("message", MESSAGES)
@pytest.mark.parametrize("level", ["L", "Q"])
def test_the_mask_chosen_is_segnos_choice(message: str, level: str) -> None:
    for ref in ("a", "summer2025", "VIP_2"):
        url = link_url("acmepets", ref, message)
        chosen = segno.make(url, error=level, micro=False).mask
        for made_with in (0, 5):
            probe = segno.make(url, error=level, micro=False, mask=made_with)
            assert masks.best_mask(probe.matrix, made_with) == chosen
