"""The rules of a config that a JSON Schema can't say, on plain values: names unique ignoring
case, a message's length in UTF-16 code units, a ref's length percent-encoded, titles that
look alike (``confusables``). (A ref used twice is ``model.shared_refs``: the plan reports it
too; the characters that show nothing are ``model.invisible``: renderers escape them too.)
Text not in Unicode's composed form (``uncomposed``) is warned by the config and the plan.

Each takes the values of one scope (a file's accounts, a channel's titles or messages) and
says where the rule is broken. The full check (``checks``) words each finding at its
position; the fast path (``fast``) only needs to know there is none. Both call these.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from reconciler.config.confusables import ascii_skeleton, look_alike_keys
from reconciler.model import MESSAGE_LIMIT, REF_LIMIT, fold, ref_length, utf16_len


def repeated_ignoring_case(names: Sequence[str]) -> dict[str, list[int]]:
    """The names that more than one item carries, ignoring case (``fold``), each with the
    indexes of those items in ``names``, in order; ``{}`` when all differ."""
    folded = [fold(name) for name in names]
    if len(set(folded)) == len(folded):
        return {}  # the common case, told at C speed: this runs once per channel
    where: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(folded):
        where[key].append(index)
    return {key: indexes for key, indexes in where.items() if len(indexes) > 1}


class RenameConflict(NamedTuple):
    """A ``renamed_from`` title that can't say "same link": item ``item`` of link ``link``'s
    list is the title of link ``other`` (``titled``), or link ``other`` claims it first."""

    link: int
    item: int
    other: int
    titled: bool


def renamed_conflicts(
    titles: Sequence[str | None], renamed: Sequence[Sequence[str]]
) -> list[RenameConflict]:
    """The ``renamed_from`` titles of a channel's links (``renamed``, one list per link,
    aligned with ``titles``; None for a link without a title) that another declared link has
    as its title, or that an earlier link claims too, ignoring case; ``[]`` when none.

    A link naming its own title, or one title twice, says nothing wrong: both are ignored.
    """
    if not any(renamed):
        return []
    by_title: dict[str, int] = {}
    for index, title in enumerate(titles):
        if title is not None:
            by_title.setdefault(fold(title), index)
    claimed: dict[str, int] = {}
    found: list[RenameConflict] = []
    for index, olds in enumerate(renamed):
        own: set[str] = set()
        for item, old in enumerate(olds):
            key = fold(old)
            if key in own:
                continue
            own.add(key)
            holder = by_title.get(key)
            if holder is not None and holder != index:
                found.append(RenameConflict(link=index, item=item, other=holder, titled=True))
            elif key in claimed:
                found.append(
                    RenameConflict(link=index, item=item, other=claimed[key], titled=False)
                )
            else:
                claimed[key] = index
    return found


def overlong_messages(messages: Sequence[str]) -> dict[int, int]:
    """The index of each message longer than ``MESSAGE_LIMIT`` UTF-16 code units (the
    strictest way a web form counts), with that length; ``{}`` when none is."""
    # At most 250 code points can't pass 500 UTF-16 units: only longer messages are encoded.
    return {
        index: length
        for index, message in enumerate(messages)
        if len(message) > MESSAGE_LIMIT // 2 and (length := utf16_len(message)) > MESSAGE_LIMIT
    }


def overlong_refs(refs: Sequence[str | None]) -> dict[int, int]:
    """The index of each ref longer than ``REF_LIMIT`` once percent-encoded (TikTok's limit),
    with that length; ``{}`` when none is (None is a link without a ref)."""
    # A character encodes to at most 3 (a ref's '=' is %3D): shorter refs can't pass.
    return {
        index: length
        for index, ref in enumerate(refs)
        if ref is not None and len(ref) > REF_LIMIT // 3 and (length := ref_length(ref)) > REF_LIMIT
    }


def look_alike_titles(titles: Sequence[str]) -> list[list[int]]:
    """Groups of titles (indexes into ``titles``, in order) that look the same (the same
    confusable skeleton, as spelled or ignoring case) without being the same ignoring case
    (that is a duplicate title); ``[]`` when none do."""
    joined = "\n".join(titles)
    if joined.isascii():
        # The common case at C speed: all the titles of a channel in one call per key.
        data = joined.encode("ascii")
        spelled = ascii_skeleton(data).split(b"\n")
        folded = ascii_skeleton(data.lower()).lower().split(b"\n")
        if len(spelled) == len(titles) and (
            len(set(spelled)) == len(spelled) and len(set(folded)) == len(folded)
        ):
            return []
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for index, title in enumerate(titles):
        for which, key in enumerate(look_alike_keys(title)):
            groups[which, key].append(index)
    found: list[list[int]] = []
    seen: set[tuple[int, ...]] = set()
    for indexes in groups.values():
        distinct: dict[str, int] = {}
        for index in indexes:
            distinct.setdefault(fold(titles[index]), index)
        group = tuple(sorted(distinct.values()))
        if len(group) > 1 and group not in seen:
            seen.add(group)
            found.append(list(group))
    return sorted(found)


def all_composed(texts: Iterable[str]) -> bool:
    """Whether every text of ``texts`` is in Unicode's composed form (NFC), as SleekFlow's UI
    and nearly every editor write it (ASCII always is): one quick check a text."""
    return all(text.isascii() or unicodedata.is_normalized("NFC", text) for text in texts)


def uncomposed(text: str) -> list[str]:
    """The characters of ``text`` that Unicode's composed form (NFC) replaces (an ``e``
    followed by U+0301 COMBINING ACUTE ACCENT is ``é``, U+00E9), sorted; ``[]`` when
    ``text`` is composed. Such text looks the same as its composed form and is other text:
    another title to match, another message, another URL."""
    if all_composed((text,)):
        return []
    marks = {c for c in text if unicodedata.combining(c)}
    # The marks composed into a letter, and the characters composed alone (U+212B ANGSTROM
    # SIGN is U+00C5); marks only reordered are all still there: name them all.
    absorbed = marks - set(unicodedata.normalize("NFC", text))
    alone = {c for c in text if unicodedata.normalize("NFC", c) != c}
    return sorted((absorbed | alone) or marks)
