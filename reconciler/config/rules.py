"""The rules of a config that a JSON Schema can't say, on plain values: names unique ignoring
case, a message's length in UTF-16 code units. (A ref used twice is ``model.shared_refs``:
the plan reports it too.)

Each takes the values of one scope (a file's accounts, a channel's titles or messages) and
says where the rule is broken. The full check (``checks``) words each finding at its
position; the fast path (``fast``) only needs to know there is none. Both call these.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from reconciler.model import MESSAGE_LIMIT, fold, utf16_len


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


def overlong_messages(messages: Sequence[str]) -> dict[int, int]:
    """The index of each message longer than ``MESSAGE_LIMIT`` UTF-16 code units (the
    strictest way a web form counts), with that length; ``{}`` when none is."""
    # At most 250 code points can't pass 500 UTF-16 units: only longer messages are encoded.
    return {
        index: length
        for index, message in enumerate(messages)
        if len(message) > MESSAGE_LIMIT // 2 and (length := utf16_len(message)) > MESSAGE_LIMIT
    }
