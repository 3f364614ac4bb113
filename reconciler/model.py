"""Values the engine works with, and the URL rule.

Two sides meet in a plan: the *desired* state read from a config file (``DesiredState``) and
the *actual* state read from a workspace (``WorkspaceState``). Both are frozen, so a plan built
from them can't be changed behind its back.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple
from unicodedata import category, name
from urllib.parse import parse_qsl, unquote, urlsplit

URL_BASE = "https://tiktok.me/"
DEFAULT_MAX_CHANGE_PCT = 30.0
#: The longest message a link may carry, in UTF-16 code units (see ``utf16_len``).
MESSAGE_LIMIT = 500


class ChannelStatus(StrEnum):
    """Whether a workspace channel can still send: a disconnected one needs reconnecting."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class _PercentTable(dict[int, str]):
    """``str.translate`` table for percent-encoding: each code point to its escaped UTF-8
    bytes, RFC 3986 unreserved characters to themselves. Non-ASCII entries are made and
    cached on first use. Gives exactly ``quote(value, safe="")``, several times faster."""

    def __missing__(self, code: int) -> str:
        escaped = "".join(f"%{byte:02X}" for byte in chr(code).encode("utf-8"))
        self[code] = escaped
        return escaped


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = _PercentTable(
    {code: chr(code) if chr(code) in _UNRESERVED else f"%{code:02X}" for code in range(128)}
)


def percent_encode(value: str) -> str:
    """``value`` as UTF-8, every byte but RFC 3986's unreserved ones as ``%XX`` (uppercase)."""
    return value.translate(_PERCENT)


def link_url(account: str, ref: str | None, message: str) -> str:
    """The message link URL: ``https://tiktok.me/{account}?ref=..&message=..``.

    Values are UTF-8 and percent-encoded except RFC 3986 unreserved characters, so a space
    is ``%20`` (never ``+``); ``ref`` is left out when absent.
    """
    query = f"message={percent_encode(message)}"
    if ref is not None:
        query = f"ref={percent_encode(ref)}&{query}"
    return f"{URL_BASE}{percent_encode(account)}?{query}"


def parse_link_url(url: str) -> tuple[str, str | None, str]:
    """The inverse of :func:`link_url`: ``(account, ref, message)``.

    Raises ``ValueError`` for a URL that is not a message link (another host, no message).
    """
    if not url.startswith(URL_BASE):
        raise ValueError(f"not a message link (it doesn't start with {URL_BASE}): {url!r}")
    parts = urlsplit(url)
    # parse_qsl turns '+' into a space; the rule never writes '+', so a literal '+' is %2B.
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "message" not in params:
        raise ValueError(f"not a message link (no message): {url!r}")
    return unquote(parts.path.removeprefix("/")), params.get("ref"), params["message"]


#: Characters a terminal would act on rather than show: C0 and C1 controls (ESC and CSI
#: start colour and cursor sequences), DEL; and lone surrogates (a JSON API can send
#: "\ud800"), which can't be written out as UTF-8 at all.
_CONTROL = "\x00-\x1f\x7f-\x9f\ud800-\udfff"
#: The bidirectional controls: they make a line read differently from what it contains.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: The other characters that show nothing: soft hyphen, combining grapheme joiner, Hangul
#: fillers, Mongolian vowel separator, zero-width space, non-joiner and joiner, word joiner
#: and the invisible operators, the byte order mark, and the tag characters.
_ZERO_WIDTH = (
    "\u00ad\u034f\u115f\u1160\u180e\u200b-\u200d\u2060-\u2064\u3164\ufeff\uffa0"
    "\U000e0000-\U000e007f"
)
#: Every character ``visible`` escapes unless it is in use (``invisible`` reports these
#: but the ``[``, which ``visible`` escapes only after ``##``: see ``_escape``).
_UNSAFE = re.compile(f"[{_CONTROL}{_BIDI}{_ZERO_WIDTH}\\[]")
_SHOWS_NOTHING = re.compile(f"[{_BIDI}{_ZERO_WIDTH}]")
_IS_BIDI = re.compile(f"[{_BIDI}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ZWNJ, _ZWJ, _VS16 = "\u200c", "\u200d", "\ufe0f"
_TAG_FLAG, _CANCEL_TAG = "\U0001f3f4", "\U000e007f"


def _in_use(text: str, index: int) -> bool:
    """Whether the invisible character at ``text[index]`` does a visible job there: a joiner
    inside an emoji sequence (a family, a profession: emoji on both sides), a joiner or
    non-joiner between letters of a script that needs them (Arabic, Persian, the Indic
    scripts: letters without case), or a tag character of an emoji tag sequence (the flags
    of England, Scotland, Wales: a black flag, tag characters, a cancel tag)."""
    char = text[index]
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char in (_ZWJ, _ZWNJ):
        if char == _ZWJ and _emoji(before) and _emoji(after):
            return True
        return _caseless_letter(before) and _caseless_letter(after)
    if _is_tag(char):
        start = end = index
        while start and _is_tag(text[start - 1]):
            start -= 1
        while end + 1 < len(text) and _is_tag(text[end + 1]):
            end += 1
        tags = text[start:end]  # all but the last, which must cancel
        return (
            text[start - 1 : start] == _TAG_FLAG
            and text[end] == _CANCEL_TAG
            and bool(tags)
            and all("\U000e0020" <= tag <= "\U000e007e" for tag in tags)
        )
    return False


def _is_tag(char: str) -> bool:
    return "\U000e0000" <= char <= _CANCEL_TAG


def _emoji(char: str) -> bool:
    """An emoji for ``_in_use``: a symbol (So), a skin tone modifier, or the emoji
    presentation selector that follows one."""
    return bool(char) and (
        char == _VS16 or "\U0001f3fb" <= char <= "\U0001f3ff" or category(char) == "So"
    )


def _caseless_letter(char: str) -> bool:
    """A letter or mark of a script without case (Arabic, Devanagari...): where a joiner or
    non-joiner shapes the text rather than hiding in it."""
    return bool(char) and category(char) in ("Lo", "Mn", "Mc")


def invisible(text: str) -> list[tuple[int, str]]:
    """Each character of ``text`` that shows nothing (see ``_ZERO_WIDTH``) or is a bidi
    control, with its index, except those in use (``_in_use``); ``[]`` for most text."""
    return [
        (m.start(), m.group())
        for m in _SHOWS_NOTHING.finditer(text)
        if not _in_use(text, m.start())
    ]


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a character ``invisible`` may report (fast: one regex search;
    ``invisible`` then says whether it is in use)."""
    return _SHOWS_NOTHING.search(text) is not None


#: C0 and C1 control characters and DEL, which no account, title, display name or ref holds,
#: nor a message but its tabs and line breaks (``control_characters``). SleekFlow's API
#: refuses them (the sandbox too), and so does a config: a NUL or an ESC in a title is never
#: meant. (``_CONTROL`` above is what ``visible`` escapes: lone surrogates too.)
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_MESSAGE_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f"
_MESSAGE_CONTROLS = re.compile(f"[{_MESSAGE_CONTROL}]")
#: The rule in words, for every message that refuses a control character: a message's,
#: and everything else's.
MESSAGE_CONTROL_RULE = (
    "a message holds no C0 or C1 control character or DEL but tabs and line breaks"
)
CONTROL_RULE = "no account, title, display name or ref holds a C0 or C1 control character or DEL"


#: A character ``invisible`` may report or a message may not hold: the fast path's one
#: search for both (``may_be_flagged``).
_FLAGGED = re.compile(f"[{_BIDI}{_ZERO_WIDTH}{_MESSAGE_CONTROL}]")


def may_be_flagged(text: str) -> bool:
    """Whether ``text`` holds a character ``invisible`` may report or a control character
    even a message may not hold (one regex search; the precise checks then say)."""
    return _FLAGGED.search(text) is not None


def control_characters(text: str, *, message: bool = False) -> list[tuple[int, str]]:
    """Each control character of ``text`` the rule refuses (``CONTROL_RULE``,
    ``MESSAGE_CONTROL_RULE``), with its index: every C0 or C1 control and DEL, but, in a
    ``message``, a tab or a line break (line feed, carriage return, next line U+0085): its
    text. ``[]`` for most text."""
    pattern = _MESSAGE_CONTROLS if message else _CONTROLS
    return [(m.start(), m.group()) for m in pattern.finditer(text)]


def is_bidi(char: str) -> bool:
    """Whether ``char`` is a bidirectional control (an error in a title or display name)."""
    return _IS_BIDI.fullmatch(char) is not None


def code_point(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character named for a message."""
    return f"U+{ord(char):04X} {name(char, 'CONTROL' if category(char) == 'Cc' else 'UNNAMED')}"


def visible(text: str) -> str:
    """``text`` safe to print on one terminal line, with nothing hidden: every control, bidi
    or invisible character becomes a visible escape (``\\n``, ``\\u001b``, ``\\u200b``),
    so data from a workspace or a config can't colour, move the cursor or split a line, and
    a zero-width space added to a message shows in the plan of the regeneration. An
    invisible character in use (a joiner inside an emoji sequence) stays as it is. A ``[``
    after ``##`` is escaped too (``##\\u005b``): a CI log would run ``##[...]`` as a GitHub
    Actions workflow command."""
    return _UNSAFE.sub(_escape, text)


def visible_lines(text: str) -> str:
    """``text`` made safe for a terminal as ``visible`` makes one line, but keeping its line
    ends (``\n``, and the ``\r`` of a ``\r\n``): several lines of data (CSV, JSON, a
    config, a message) shown on a terminal as they would read in a file."""
    return "\n".join(
        visible(line[:-1]) + "\r" if line.endswith("\r") else visible(line)
        for line in text.split("\n")
    )


def _escape(m: re.Match[str]) -> str:
    char = m.group()
    if char == "[":
        # GitHub Actions' runner reads "##[name]" anywhere in a line of a step's output as
        # a workflow command (set-output, add-mask, stop-commands): never data's to give.
        return "\\u005b" if m.string[max(0, m.start() - 2) : m.start()] == "##" else char
    if char in _NAMED:
        return _NAMED[char]
    if char > "\x9f" and _in_use(m.string, m.start()):
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


#: The key two names match on when case is ignored (accounts, titles): ``str.casefold``
#: itself, called a few hundred thousand times a plan, so no Python frame of its own.
fold: Callable[[str], str] = str.casefold


def utf16_len(text: str) -> int:
    """Length as a web form counts it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


def shared_refs(refs: Sequence[str | None]) -> dict[str, list[int]]:
    """The refs that more than one link of a channel carries, each with the indexes of those
    links in ``refs`` (one item per link, None for a link without one), in order.

    Tracking can't tell such links apart. Refs match exactly: case counts, unlike titles.
    """
    present = [ref for ref in refs if ref is not None]
    if len(set(present)) == len(present):
        return {}  # the common case, told at C speed: this runs once per channel of a plan
    where: dict[str, list[int]] = defaultdict(list)
    for index, ref in enumerate(refs):
        if ref is not None:
            where[ref].append(index)
    return {ref: indexes for ref, indexes in where.items() if len(indexes) > 1}


# --- desired state (from a config file) ---------------------------------------------------


class DesiredLink(NamedTuple):
    """A message link as the config declares it.

    Links are the one value made by the hundred thousand (once from the config, once from
    the workspace): a NamedTuple is as immutable as a frozen dataclass and builds in half
    the time, which at 100,000 links is a fifth of a second per side.
    """

    title: str
    message: str
    ref: str | None = None
    #: The titles the link had before (``renamed_from``): "same link" across an edit of
    #: title and message together. Matched after the title, before ref and message.
    renamed_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DesiredChannel:
    """A channel as the config declares it: its link list (complete unless ``prune`` is
    false: then links it doesn't declare are kept), or ``remove``."""

    account: str
    display_name: str | None = None
    links: tuple[DesiredLink, ...] = ()
    protect: bool = False
    remove: bool = False
    max_change_pct: float = DEFAULT_MAX_CHANGE_PCT
    #: Whether existing links the config doesn't declare are removed (false: kept, listed).
    prune: bool = True


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything a config declares: its channels, in file order (files in path order)."""

    channels: tuple[DesiredChannel, ...] = ()


# --- actual state (from a workspace) ------------------------------------------------------


class Link(NamedTuple):
    """A message link as the workspace stores it. ``seq`` orders links by creation;
    ``version`` changes with every change to the link (a conditional write names it).

    A NamedTuple for the reason given on ``DesiredLink``."""

    id: str
    title: str
    ref: str | None
    message: str
    url: str
    seq: int = 0
    version: int = 1


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel as the workspace has it, with its links. ``version`` changes with every
    change to the channel itself (its name, its status), not with a change to one of its
    links: two applies editing different links of a channel don't conflict."""

    id: str
    account: str
    display_name: str
    status: ChannelStatus = ChannelStatus.CONNECTED
    links: tuple[Link, ...] = ()
    version: int = 1


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    """Which workspace a backend reaches: what a plan records, so it is applied to that
    workspace and no other (a copy of a store, or the demo store instead of SleekFlow, is
    another workspace)."""

    #: ``local`` or ``http``.
    backend: str
    #: The local store's absolute path, or the API's URL (never with credentials).
    location: str
    #: The workspace's own id (a local store's, made when it is created; the API's); None
    #: for a local store that doesn't exist yet.
    id: str | None

    def to_dict(self) -> dict[str, str | None]:
        """The reference as plain JSON data (the ``workspace`` object of plans and results)."""
        return {"backend": self.backend, "location": self.location, "id": self.id}

    def __str__(self) -> str:
        kind = "local workspace" if self.backend == "local" else "SleekFlow API"
        return f"{kind} {self.location} (id {self.id or 'none yet'})"


@dataclass(frozen=True, slots=True)
class WorkspaceState:
    """Everything a workspace holds: its channels, looked up by account ignoring case."""

    channels: tuple[Channel, ...] = ()
    _by_account: dict[str, Channel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Channel] = {}
        for channel in self.channels:
            index.setdefault(fold(channel.account), channel)
        object.__setattr__(self, "_by_account", index)

    def channel(self, account: str) -> Channel | None:
        """The channel whose account matches ``account`` ignoring case, if any."""
        return self._by_account.get(fold(account))


#: A TikTok username: 2-24 letters, digits, '_' and '.', not ending in '.' (the schema's
#: pattern, with ECMA-262's ``$`` written ``\Z``: Python's ``$`` also matches before a final
#: newline, so ``re.match`` would accept ``"acme\n"``).
ACCOUNT_PATTERN = r"^[A-Za-z0-9_.]{1,23}[A-Za-z0-9_]\Z"


#: The account rule in words, for every message that states it.
ACCOUNT_RULE = "2-24 letters, digits, '_' or '.', not ending in '.'"

#: A ref (referral source tag), TikTok's rule: one or more letters, digits, '_', '-' and
#: '=', at most ``REF_LIMIT`` characters once percent-encoded (``ref_length``). TikTok's
#: Business Messaging API reports the ref back on every conversation a link starts, and
#: supports only these characters. The schema's pattern, with ``$`` written ``\Z``.
REF_PATTERN = r"^[A-Za-z0-9_=-]+\Z"
REF_LIMIT = 2083
#: The characters of a ref in words, for every message that states them.
REF_CHARACTERS = "letters A-Z a-z, digits 0-9, '_', '-' and '='"


def is_ref_text(text: str) -> bool:
    """Whether ``text`` holds only a ref's characters (at least one; see ``REF_PATTERN``)."""
    return re.fullmatch(REF_PATTERN, text) is not None


def ref_length(ref: str) -> int:
    """The length of ``ref`` percent-encoded, as it is in a link's URL (``percent_encode``:
    '=' is ``%3D``, a ref's other characters are themselves)."""
    return len(percent_encode(ref))


def is_account(text: str) -> bool:
    """Whether ``text`` is a valid TikTok username (see ``ACCOUNT_PATTERN``)."""
    return re.fullmatch(ACCOUNT_PATTERN, text) is not None
