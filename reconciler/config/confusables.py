"""Titles that look the same: Unicode's confusable skeleton (UTS #39, section 4).

``skeleton(text)`` is UTS #39's: the text in NFD, each character replaced by its prototype
from Unicode's own confusables.txt, then NFD again. Two strings with the same skeleton look
alike: ``VIP Program`` and ``VIP Pr\\u043egram`` (a Cyrillic o, U+043E). The data is Unicode's file
(``confusables.txt`` beside this module: its data lines, read in Unicode's own format, so a
newer release can replace it as is); no hand-made table, and no dependency for ~20 lines.

``look_alike_keys(title)`` is what a channel's titles are compared on: the skeleton as the
title is spelled, and the skeleton ignoring case (titles are unique ignoring case, so
``VIP PROGRAM`` and ``vip pr\\u043egram`` look alike too).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from unicodedata import normalize

from reconciler.model import fold

__all__ = ["look_alike_keys", "prototype", "prototypes", "skeleton"]


@cache
def prototypes() -> dict[int, str]:
    """Each confusable character (as a code point) and its prototype, from confusables.txt:
    a ``str.translate`` table."""
    text = resources.files(__package__).joinpath("confusables.txt").read_text("utf-8-sig")
    table: dict[int, str] = {}
    for line in text.splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        source, target, *_ = (field.strip() for field in data.split(";"))
        table[int(source, 16)] = "".join(chr(int(code, 16)) for code in target.split())
    return table


#: The prototypes of the ASCII characters confusables.txt maps (1 and I are l, 0 is O, m is
#: rn...), as bytes: an ASCII text is its own NFD, so its skeleton is a ``bytes.translate``
#: and three replacements, ~20x faster than ``str.translate`` with ``prototypes()`` (the fast
#: path compares every title of a 100,000-link file). tests/config/test_confusables.py holds
#: these to the data.
ASCII_ONE_TO_ONE = bytes.maketrans(b"`|1I0", b"'lllO")
ASCII_EXPANDED = ((b"m", b"rn"), (b'"', b"''"), (b"%", "\u00ba/\u2080".encode()))


def ascii_skeleton(text: bytes) -> bytes:
    """The skeleton of ASCII ``text`` (as its UTF-8 bytes): one call for many titles joined."""
    text = text.translate(ASCII_ONE_TO_ONE)
    for source, target in ASCII_EXPANDED:
        if source in text:
            text = text.replace(source, target)
    return text


@cache
def _data() -> str:
    """confusables.txt as text, each line after a newline (so a line is found by its start)."""
    return "\n" + resources.files(__package__).joinpath("confusables.txt").read_text("utf-8-sig")


@cache
def prototype(char: str) -> str:
    """The prototype of one character, itself when confusables.txt has none for it. Looked up
    in the text, not parsed whole: a plan with a few accented titles then costs a few
    searches instead of a third of its start-up (``prototypes()`` is the same table whole,
    and tests/config/test_confusables.py holds the two equal)."""
    data = _data()
    start = data.find(f"\n{ord(char):04X} ;")
    if start < 0:
        return char
    line = data[start + 1 : data.find("\n", start + 1)]
    return "".join(chr(int(code, 16)) for code in line.split(";")[1].split())


def skeleton(text: str) -> str:
    """UTS #39's skeleton of ``text``: NFD, each character to its prototype, NFD."""
    if text.isascii():
        return ascii_skeleton(text.encode("ascii")).decode("utf-8")
    return normalize("NFD", "".join(prototype(char) for char in normalize("NFD", text)))


def look_alike_keys(title: str) -> tuple[str, str]:
    """The two keys a title is compared on: its skeleton, and its skeleton ignoring case
    (the skeleton of its case fold, folded again: a prototype may be a capital)."""
    return skeleton(title), fold(skeleton(fold(title)))
