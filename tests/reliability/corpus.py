"""The bad-input corpus: config files no reconciler command may accept, generated
deterministically, each saying where its problem is.

A ``Case`` is a file (bytes, or a function that builds it) and its expected position: an exact
``(line, col)`` that must be among the reported problems, ``ANY`` (some ``FILE:LINE:COL``), or
``None`` for a problem of the file itself, which has no position (missing, too large, a
directory). The cases come from

- structural mutations of ``examples/workspace.yaml``: its data changed, then dumped again
  (wrong types, missing and unknown keys, broken patterns and lengths, duplicates, YAML 1.1
  traps, deep nesting). The position of the mutated node is found by PyYAML's pure-Python
  composer, an oracle independent of the libyaml events reconciler reads;
- damage to the example's bytes as written (control characters, tabs, invalid UTF-8, lone
  surrogates, byte order marks, mixed encodings, CRLF and CR line ends, truncation, a line
  written twice), at positions computed from where the damage was put;
- hand-written YAML attacks (tags, merge keys, alias bombs, aliased duplicates, several
  documents), empty files, seeded binary junk, the project's ``bad-*.yaml`` fixtures, and
  failures of the file itself (missing, a directory, 50 MB, /dev/zero, a symlink loop).

Nothing here is valid by accident: every mutation breaks a rule of the format by construction,
and random bytes are kept only when they are not UTF-8 or hold a character YAML forbids (a
property of the bytes, not of reconciler). ``near_misses`` lists the opposite: files that look
damaged and are valid, so the harness is seen to pass what it should.
"""

from __future__ import annotations

import copy
import gzip
import os
import random
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import EXAMPLE, FIXTURES

SEED = 20251125
#: Expected position: some FILE:LINE:COL, not a particular one.
ANY = "any"
Where = tuple[int, int] | str | None

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
BASE: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)


@dataclass(frozen=True)
class Case:
    """One bad input. ``data`` is the file's bytes, or ``make`` builds the file in a
    directory and returns its path (large files, missing files, special files)."""

    id: str
    family: str
    data: bytes | None = None
    make: Callable[[Path], Path | str] | None = None
    where: Where = ANY
    #: Extra environment for the run (e.g. a size limit).
    env: tuple[tuple[str, str], ...] = ()
    #: What the first line of the error names instead of the file (an environment variable).
    names: str | None = None

    def materialise(self, directory: Path) -> Path | str:
        """Write the case's file into ``directory``; its path (a str for a name no Path
        can hold, the empty one)."""
        if self.make is not None:
            return self.make(directory)
        assert self.data is not None
        path = directory / "workspace.yaml"
        path.write_bytes(self.data)
        return path


# --- helpers ----------------------------------------------------------------------------


def dump(data: Any) -> str:
    """The YAML reconciler's users write: block style, no line folding."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100_000)


def line_col(before: str) -> tuple[int, int]:
    """1-based line and column just after ``before`` (LF line ends)."""
    lines = before.split("\n")
    return len(lines), len(lines[-1]) + 1


def position(text: str, path: tuple[Any, ...], part: str) -> tuple[int, int]:
    """Where the node at ``path`` starts in ``text``, by PyYAML's pure-Python composer:
    ``part`` is "value" (the node), "key" (the key leading to it) or "node" (the same as
    value; named for a mapping that misses a key)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    key = None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == step)
        else:
            key, node = None, node.value[step]
    mark = (key if part == "key" else node).start_mark
    return mark.line + 1, mark.column + 1


class Raw:
    """A value written into the YAML as is (unquoted), e.g. ``yes`` or ``0x1F``."""

    def __init__(self, token: str) -> None:
        self.token = token


_MISSING = object()


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is _MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value


def mutate(
    family: str,
    name: str,
    path: tuple[Any, ...],
    value: Any,
    part: str = "value",
    *,
    where: Where | None = None,
) -> Case:
    """The example with the value at ``path`` replaced by ``value`` (removed when
    ``_MISSING``), expected to fail at the node ``part`` names: the value, its key, or for a
    removed key the mapping that misses it (``where`` instead, when given)."""
    data = copy.deepcopy(BASE)
    raws: dict[str, str] = {}
    if isinstance(value, Raw):
        marker = f"RAWVALUE{len(raws)}X"
        raws[marker] = value.token
        value = marker
    _set(data, path, value)
    text = dump(data)
    for marker, token in raws.items():
        text = text.replace(marker, token)
    if where is None:
        where = position(text, path[:-1] if value is _MISSING else path, part)
    return Case(f"{family}-{name}", family, text.encode("utf-8"), where=where)


def _path_id(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path if p not in ("channels", "links"))


def _short(value: Any) -> str:
    """A short, readable, distinct id part for a value."""
    raw = value.token if isinstance(value, Raw) else value
    kind = "raw" if isinstance(value, Raw) else type(raw).__name__
    text = re.sub(r"[^A-Za-z0-9]+", "_", repr(raw)).strip("_")
    text = text if len(text) <= 16 else f"{text[:8]}_{len(text)}"
    return f"{kind}_{text}_{sum(map(ord, repr(raw))) % 1000}"


CHANNELS = range(len(BASE["channels"]))
LINKS = [
    ("channels", c, "links", i) for c in CHANNELS for i in range(len(BASE["channels"][c]["links"]))
]
ACCOUNTS = [("channels", c, "account") for c in CHANNELS]
DISPLAY_NAMES = [("channels", c, "display_name") for c in CHANNELS]
STRING_FIELDS = [
    *ACCOUNTS,
    *DISPLAY_NAMES,
    *[(*link, field) for link in LINKS for field in ("title", "ref", "message")],
]


# --- structural mutations ---------------------------------------------------------------


def missing_keys() -> Iterator[Case]:
    for key in ("version", "channels"):
        yield mutate("missing-key", key, (key,), _MISSING, "node")
    for path in [*ACCOUNTS, *DISPLAY_NAMES]:
        yield mutate("missing-key", _path_id(path), path, _MISSING, "node")
    for link in LINKS:
        for field in ("title", "message"):
            path = (*link, field)
            yield mutate("missing-key", _path_id(path), path, _MISSING, "node")


WRONG_FOR_STRING = [42, -3, 1.5, True, False, None, [], {}, ["x"], {"k": "v"}]
WRONG_FOR_BOOL = ["true", "yes", 1, 0, None, [], {}, 1.0]
WRONG_FOR_PCT = ["30", True, None, [], {}, -1, 101, 100.5, -0.001, 1e9]
WRONG_FOR_VERSION = [2, 0, -1, "1", 1.5, True, None, [1], {"v": 1}]
WRONG_FOR_LIST = [{}, "x", 1, None, True]
WRONG_FOR_ITEM = [42, "x", None, [], True]


def wrong_types(rng: random.Random, scale: int) -> Iterator[Case]:
    family = "wrong-type"
    for value in WRONG_FOR_VERSION:
        yield mutate(family, f"version-{_short(value)}", ("version",), value)
    for value in WRONG_FOR_LIST:
        yield mutate(family, f"channels-{_short(value)}", ("channels",), value)
        for c in CHANNELS:
            path = ("channels", c, "links")
            yield mutate(family, f"{_path_id(path)}links-{_short(value)}", path, value)
    for path in STRING_FIELDS:
        for value in rng.sample(WRONG_FOR_STRING, min(4 * scale, len(WRONG_FOR_STRING))):
            yield mutate(family, f"{_path_id(path)}-{_short(value)}", path, value)
    for c in CHANNELS:
        for field in ("protect", "remove"):
            path = ("channels", c, field)
            if field == "remove" and c == 0:
                continue  # remove on a channel with links: another error comes first
            for value in rng.sample(WRONG_FOR_BOOL, min(4 * scale, len(WRONG_FOR_BOOL))):
                yield mutate(family, f"{_path_id(path)}-{_short(value)}", path, value)
        path = ("channels", c, "max_change_pct")
        for value in rng.sample(WRONG_FOR_PCT, min(5 * scale, len(WRONG_FOR_PCT))):
            yield mutate(family, f"{_path_id(path)}-{_short(value)}", path, value)
        for value in WRONG_FOR_ITEM:
            path = ("channels", c)
            yield mutate(family, f"channel{c}-item-{_short(value)}", path, value)
    for link in LINKS:
        for value in rng.sample(WRONG_FOR_ITEM, min(2 * scale, len(WRONG_FOR_ITEM))):
            yield mutate(family, f"{_path_id(link)}-item-{_short(value)}", link, value)


NEAR_MISS_KEYS = {
    (): ["verison", "channel", "Channels", "links", "account", "version "],
    ("channels", 0): [
        "acount",
        "displayname",
        "display-name",
        "Display_Name",
        "link",
        "protected",
        "removed",
        "max_change",
        "title",
        "ref",
    ],
    ("channels", 0, "links", 0): [
        "tittle",
        "mesage",
        "Message",
        "refs",
        "url",
        "account",
        "id",
        "remove",
    ],
}


def unknown_keys(rng: random.Random, scale: int) -> Iterator[Case]:
    for level, names in NEAR_MISS_KEYS.items():
        for name in names:
            # The same level, somewhere in the file: any channel, any link.
            if len(level) == 2:
                level = ("channels", rng.choice(list(CHANNELS)))
            elif len(level) == 4:
                level = rng.choice(LINKS)
            path = (*level, name)
            yield mutate("unknown-key", f"{_path_id(path)}", path, "x", "key")
    alphabet = "abcdefghijklmnopqrstuvwxyzé日_-"
    allowed = {"version", "channels", "account", "display_name", "protect", "remove"}
    allowed |= {"max_change_pct", "links", "title", "ref", "message"}
    for n in range(10 * scale):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if name in allowed:
            continue
        level = rng.choice([(), ("channels", rng.choice(list(CHANNELS))), rng.choice(LINKS)])
        path = (*level, name)
        yield mutate("unknown-key", f"random{n}-{_path_id(path)}", path, rng.randint(0, 9), "key")


BAD_VALUES: dict[str, list[Any]] = {
    "account": [
        *("a", "x" * 25, "acme pets", "acme-pets", "acme.", "ácme", "acme/pets", ""),
        *("acme\n", "\u202eacme", "acme\x00", "😀pets"),
    ],
    "display_name": ["", " ", "\t\n", "x" * 101, "ü" * 101, "   "],
    "title": ["", "  ", "\n", "x" * 101, "é" * 101, "😀" * 101],
    "ref": [
        *("", "a b", "x" * 2084, "bio/link", "émoji", "#tag", "ref\n", "😀", "a+b", "ref "),
        *("bio.link", "=" * 695, "a" * 2081 + "="),
    ],
    "message": ["", "   ", "\n\t", "x" * 501, "😀" * 251, "a" * 499 + "😀", "é" * 501],
}


def broken_values(rng: random.Random, scale: int) -> Iterator[Case]:
    for path in STRING_FIELDS:
        field = path[-1]
        values = BAD_VALUES[field]
        if field in ("account", "display_name"):
            picks = values
        else:
            picks = rng.sample(values, min(3 * scale, len(values)))
        for value in picks:
            yield mutate("bad-value", f"{_path_id(path)}-{_short(value)}", path, value)
    for c in CHANNELS:
        path = ("channels", c, "max_change_pct")
        for value in (100.5, -0.1, 1e308, -1e308):
            yield mutate("bad-value", f"{_path_id(path)}-{_short(value)}", path, value)


def _variants(title: str) -> list[str]:
    return [title, title.upper(), title.lower(), title.swapcase(), title.title()]


def duplicates(rng: random.Random) -> Iterator[Case]:
    for c in CHANNELS:
        titles = [link["title"] for link in BASE["channels"][c]["links"]]
        for i in range(len(titles)):
            for j in range(i + 1, len(titles)):
                variant = rng.choice(_variants(titles[i]))
                path = ("channels", c, "links", j, "title")
                yield mutate("duplicate", f"title-{c}-{i}-{j}", path, variant)
    # casefold, not lower: "Straße" and "STRASSE" are one title
    data = copy.deepcopy(BASE)
    data["channels"][0]["links"][0]["title"] = "Straße Promo"
    data["channels"][0]["links"][2]["title"] = "STRASSE PROMO"
    text = dump(data)
    where = position(text, ("channels", 0, "links", 2, "title"), "value")
    yield Case("duplicate-title-casefold", "duplicate", text.encode(), where=where)
    for variant in ("acmepets", "ACMEPETS", "AcmePets"):
        path = ("channels", 1, "account")
        yield mutate("duplicate", f"account-{variant}", path, variant)
    data = copy.deepcopy(BASE)
    data["channels"].append({"account": "ACMEPETS.GLOBAL", "display_name": "Again"})
    text = dump(data)
    where = position(text, ("channels", 2, "account"), "value")
    yield Case("duplicate-account-third", "duplicate", text.encode(), where=where)


def removals_with_links() -> Iterator[Case]:
    for c in CHANNELS:
        data = copy.deepcopy(BASE)
        data["channels"][c]["remove"] = True
        text = dump(data)
        where = position(text, ("channels", c, "links"), "key")
        yield Case(f"remove-with-links-{c}", "remove-with-links", text.encode(), where=where)


#: Plain scalars YAML 1.1 reads as something other than text.
NOT_TEXT = ["yes", "no", "on", "off", "true", "False", "NO", "On", "~", "null", "0123"]
NOT_TEXT += ["0x1F", "1_000", ".inf", "-.inf", ".nan", "12:30", "2025-06-01", "3.14", "-7"]
NOT_TEXT += ["2025-06-01 10:00:00", "+5", "0b101"]
#: ...and what only one of YAML 1.1 (the one-letter booleans) and YAML 1.2 reads so.
NOT_TEXT += ["y", "n", "Y", "N", "0o17", "1e3", "12e03", "+.5", "089"]
#: Numbers no field takes, of any size (Python can't print an int of over 4,300 digits).
HUGE = ["0x" + "f" * 3600, "9" * 5000, "-" + "7" * 4400, "1" + ":59" * 2000, "9" * 5000 + ".5"]


def yaml11_traps(rng: random.Random) -> Iterator[Case]:
    for token in NOT_TEXT:
        path = rng.choice(STRING_FIELDS)
        yield mutate("yaml11", f"{_path_id(path)}-{_short(token)}", path, Raw(token))
    for token in ("yes", "no", "on", "off", "Yes", "OFF"):
        path = ("channels", rng.choice(list(CHANNELS)), "protect")
        yield mutate("yaml11", f"{_path_id(path)}-{token}", path, Raw(token))
    for token in ("0x1", "+1", "1.0", "01", "0b1", "1_0", "1e0", "1.", "0o1"):
        yield mutate("yaml11", f"version-{_short(token)}", ("version",), Raw(token))
    for token in (".nan", "1e9", "12:30", "1_000", "yes", "0x65"):
        path = ("channels", rng.choice(list(CHANNELS)), "max_change_pct")
        yield mutate("yaml11", f"{_path_id(path)}-{_short(token)}", path, Raw(token))
    huge_paths = [("version",), ("channels",), ("channels", 0), ("channels", 0, "links", 0)]
    huge_paths += [("channels", 0, f) for f in ("protect", "remove", "max_change_pct")]
    huge_paths += list(STRING_FIELDS)
    for path in huge_paths:
        token = rng.choice(HUGE)
        yield mutate("huge-number", f"{_path_id(path)}-{_short(token)}", path, Raw(token))


def deep_nesting(rng: random.Random) -> Iterator[Case]:
    for depth in (65, 100, 999, 1001, 5000):
        path = rng.choice(STRING_FIELDS)
        nested = Raw("[" * depth + "]" * depth)
        yield mutate("nesting", f"flow-{depth}", path, nested, where=ANY)
    for depth in (65, 200):
        nested: Any = "x"
        for _ in range(depth):
            nested = {"a": nested} if len(str(depth)) % 2 else [nested]
        path = rng.choice(STRING_FIELDS)
        data = copy.deepcopy(BASE)
        _set(data, path, nested)
        yield Case(f"nesting-block-{depth}", "nesting", dump(data).encode(), where=ANY)


def structural(rng: random.Random, scale: int = 1) -> Iterator[Case]:
    yield from missing_keys()
    yield from wrong_types(rng, scale)
    yield from unknown_keys(rng, scale)
    yield from broken_values(rng, scale)
    yield from duplicates(rng)
    yield from removals_with_links()
    yield from yaml11_traps(rng)
    yield from deep_nesting(rng)


# --- damage to the bytes of the example as written -------------------------------------

#: Characters YAML forbids anywhere in a file (tab, LF, CR and NEL are allowed).
FORBIDDEN = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
FORBIDDEN += ["\x7f"] + [chr(c) for c in range(0x80, 0xA0) if c != 0x85] + ["\ufffe", "\uffff"]


def control_characters(rng: random.Random) -> Iterator[Case]:
    text = EXAMPLE_TEXT
    for char in FORBIDDEN:
        i = rng.randrange(len(text) + 1)
        damaged = text[:i] + char + text[i:]
        where = line_col(text[:i])
        yield Case(f"control-U+{ord(char):04X}", "control", damaged.encode(), where=where)


def tabs() -> Iterator[Case]:
    lines = EXAMPLE_TEXT.split("\n")
    for n, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0 or not line.strip() or line.lstrip().startswith("#"):
            continue
        damaged = "\n".join([*lines[:n], "\t" + line[indent:], *lines[n + 1 :]])
        yield Case(f"tab-indent-line{n + 1}", "tab", damaged.encode(), where=(n + 1, 1))
        if line.lstrip().startswith("- "):
            dash = line.replace("- ", "-\t", 1)
            damaged = "\n".join([*lines[:n], dash, *lines[n + 1 :]])
            where = (n + 1, indent + 2)
            yield Case(f"tab-after-dash-line{n + 1}", "tab", damaged.encode(), where=where)


def _ascii_offsets(rng: random.Random, k: int) -> list[int]:
    """``k`` indexes of ASCII characters of the example (sorted, distinct)."""
    candidates = [i for i, ch in enumerate(EXAMPLE_TEXT) if ord(ch) < 0x80]
    return sorted(rng.sample(candidates, k))


def invalid_utf8(rng: random.Random, scale: int) -> Iterator[Case]:
    text = EXAMPLE_TEXT
    family = "not-utf8"
    for i in _ascii_offsets(rng, 15 * scale):
        prefix = text[:i].encode()
        data = prefix + b"\xff" + text[i + 1 :].encode()
        yield Case(f"byte-ff-at-{i}", family, data, where=line_col(text[:i]))
    insertions = {
        "overlong": b"\xc0\xaf",
        "lone-high-surrogate": b"\xed\xa0\x80",
        "lone-low-surrogate": b"\xed\xbf\xbf",
        "above-10ffff": b"\xf4\x90\x80\x80",
        "continuation": b"\x80",
        "five-bytes": b"\xf8\x88\x80\x80\x80",
        "truncated-3": b"\xe2\x82",
        "fe": b"\xfe",
    }
    for name, bad in insertions.items():
        for i in _ascii_offsets(rng, 3 * scale):
            data = text[:i].encode() + bad + text[i:].encode()
            yield Case(f"{name}-at-{i}", family, data, where=line_col(text[:i]))
    for cut in (1, 2, 3):
        data = text.encode() + "🐾".encode()[:cut]
        yield Case(f"truncated-emoji-at-eof-{cut}", family, data, where=line_col(text))


def _replace_line(needle: str, replacement: bytes) -> tuple[bytes, int]:
    """The example with the value ``needle`` replaced by bytes; the character index of it."""
    i = EXAMPLE_TEXT.index(needle)
    return EXAMPLE_TEXT[:i].encode() + replacement + EXAMPLE_TEXT[i + len(needle) :].encode(), i


def mixed_encodings() -> Iterator[Case]:
    family = "mixed-encoding"
    hola = "¡Hola! Quiero saber más sobre sus productos para mascotas."
    data, i = _replace_line(hola, hola.encode("latin-1"))
    yield Case("latin1-line", family, data, where=line_col(EXAMPLE_TEXT[:i]))
    data, i = _replace_line(hola, hola.encode("cp1252"))
    yield Case("cp1252-line", family, data, where=line_col(EXAMPLE_TEXT[:i]))
    quotes = "Join our VIP program"
    data, i = _replace_line(quotes, "Join our “VIP” café".encode("cp1252"))
    at = i + len("Join our ")
    yield Case("cp1252-smart-quotes", family, data, where=line_col(EXAMPLE_TEXT[:at]))
    konnichiwa = "こんにちは！ペット用品について詳しく知りたいです。"
    data, i = _replace_line(konnichiwa, konnichiwa.encode("shift_jis"))
    yield Case("shift-jis-line", family, data, where=line_col(EXAMPLE_TEXT[:i]))
    data, i = _replace_line(konnichiwa, konnichiwa.encode("euc_jp"))
    yield Case("euc-jp-line", family, data, where=line_col(EXAMPLE_TEXT[:i]))
    data, _ = _replace_line(hola, hola.encode("utf-16-le"))
    yield Case("utf16-line-in-utf8", family, data, where=ANY)


def lone_surrogate_escapes() -> Iterator[Case]:
    for name, escape in (
        ("high", "\\ud800"),
        ("low", "\\udfff"),
        ("pair", "\\ud83d\\ude00"),
        ("upper-hex", "\\uDC00"),
        ("in-title", "\\ud801"),
    ):
        needle = "Join our VIP program" if name != "in-title" else "VIP Program"
        data, _ = _replace_line(needle, f'"Hi {escape} there"'.encode())
        yield Case(f"surrogate-escape-{name}", "lone-surrogate", data, where=ANY)


def byte_order_marks() -> Iterator[Case]:
    text = EXAMPLE_TEXT
    family = "bom"
    for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        data = ("\ufeff" + text).encode(encoding)
        yield Case(f"{encoding}-with-bom", family, data, where=(1, 1))
    for encoding in ("utf-16-le", "utf-16-be", "utf-32-le"):
        yield Case(f"{encoding}-no-bom", family, text.encode(encoding), where=ANY)
    yield Case("utf16-bom-then-utf8", family, b"\xff\xfe" + text.encode(), where=(1, 1))


def truncations(rng: random.Random) -> Iterator[Case]:
    text = EXAMPLE_TEXT
    quoted = [m.span() for m in re.finditer(r'"[^"\n]+"', text)]
    for start, end in quoted:
        for cut in sorted(rng.sample(range(start + 1, end), 2)):
            yield Case(f"cut-in-quotes-at-{cut}", "truncated", text[:cut].encode(), where=ANY)
    for emoji in ("🐶", "🐾"):
        i = text.index(emoji)
        data = text[:i].encode() + emoji.encode()[:2]
        yield Case(f"cut-in-{emoji.encode().hex()}", "truncated", data, where=line_col(text[:i]))


def duplicated_lines() -> Iterator[Case]:
    lines = EXAMPLE_TEXT.split("\n")
    for n, line in enumerate(lines):
        match = re.match(r"( *)([a-z_]+):", line)
        if match is None:
            continue
        damaged = "\n".join([*lines[: n + 1], line, *lines[n + 1 :]])
        where = (n + 2, len(match.group(1)) + 1)
        yield Case(f"line{n + 1}-twice", "duplicate-key", damaged.encode(), where=where)


def line_ends(cases: list[Case], rng: random.Random) -> Iterator[Case]:
    """The same mistakes with CRLF, CR or mixed line ends: the same positions."""
    for n, case in enumerate(cases):
        assert case.data is not None
        if n % 4 == 0:
            data = case.data.replace(b"\n", b"\r\n")
            yield Case(f"crlf-{case.id}", "line-ends", data, where=case.where)
        if n % 10 == 1:
            data = case.data.replace(b"\n", b"\r")
            yield Case(f"cr-{case.id}", "line-ends", data, where=case.where)
        if n % 25 == 2:
            parts = case.data.split(b"\n")
            ends = [rng.choice([b"\n", b"\r\n", b"\r"]) for _ in parts[1:]]
            data = parts[0] + b"".join(
                end + part for end, part in zip(ends, parts[1:], strict=True)
            )
            yield Case(f"mixed-ends-{case.id}", "line-ends", data, where=case.where)
        if n % 30 == 3:
            yield Case(f"utf8-bom-{case.id}", "bom", b"\xef\xbb\xbf" + case.data, where=case.where)


def damage(rng: random.Random, scale: int = 1) -> Iterator[Case]:
    yield from control_characters(rng)
    yield from tabs()
    yield from invalid_utf8(rng, scale)
    yield from mixed_encodings()
    yield from lone_surrogate_escapes()
    yield from byte_order_marks()
    yield from truncations(rng)
    yield from duplicated_lines()


# --- hand-written -------------------------------------------------------------------------

HEAD = "version: 1\nchannels:\n  - account: acmepets\n    display_name: Acme\n    links:\n"


def _laughs(levels: int, width: int, mapping: bool = False) -> str:
    lines = ['l0: &l0 "lol"']
    for i in range(1, levels):
        if mapping:
            items = ", ".join(f"k{j}: *l{i - 1}" for j in range(width))
            lines.append(f"l{i}: &l{i} {{{items}}}")
        else:
            lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _quadratic(size: int, uses: int) -> str:
    links = "".join(f"      - title: t{i}\n        message: *m\n" for i in range(uses))
    head = HEAD.replace("display_name: Acme", f'display_name: &m "{"x" * size}"')
    return head + links


HAND_WRITTEN: dict[str, tuple[str, Where]] = {
    # tags: only plain data
    "tag-python-object": (HEAD + '      - title: !!python/object:os.system "ls"\n', (6, 16)),
    "tag-python-name": (HEAD + "      - title: !!python/name:os.system x\n", (6, 16)),
    "tag-binary": (HEAD + "      - title: x\n        message: !!binary aGk=\n", (7, 18)),
    "tag-custom": (HEAD + "      - title: !custom x\n        message: hi\n", (6, 16)),
    "tag-int-on-text": (HEAD + '      - title: !!int "5"\n        message: hi\n', (6, 16)),
    "tag-set": ("version: 1\nchannels: !!set {a, b}\n", (2, 11)),
    "tag-omap": ("version: 1\nchannels: !!omap [a: 1]\n", (2, 11)),
    "tag-timestamp": (
        HEAD + "      - title: !!timestamp 2025-01-01\n        message: hi\n",
        (6, 16),
    ),
    "tag-local-on-doc": ("--- !local\nversion: 1\nchannels: []\n", ANY),
    "tag-verbatim": ("version: !<tag:evil.com,2025:x> 1\nchannels: []\n", (1, 10)),
    "tag-float-version": ("version: !!float 1\nchannels: []\n", (1, 10)),
    # merge keys, complex and non-string keys
    "merge-key": (
        "base: &b {display_name: Acme}\nversion: 1\nchannels:\n  - <<: *b\n    account: acme\n",
        ANY,
    ),
    "merge-key-list": ("version: 1\nchannels:\n  - <<: [{a: 1}]\n    account: acme\n", ANY),
    "complex-key": ("version: 1\n? [a, b]\n: c\nchannels: []\n", (2, 3)),
    "complex-key-mapping": ("version: 1\n{a: b}: c\nchannels: []\n", (2, 1)),
    "int-key": ("version: 1\nchannels: []\n1: x\n", (3, 1)),
    "bool-key": ("version: 1\nchannels: []\nyes: x\n", (3, 1)),
    "null-key": ("version: 1\nchannels: []\n~: x\n", (3, 1)),
    "date-key": ("version: 1\nchannels: []\n2025-01-01: x\n", (3, 1)),
    "empty-key": ("version: 1\nchannels: []\n: x\n", ANY),
    # several documents, directives
    "two-documents": ("version: 1\nchannels: []\n---\nversion: 1\nchannels: []\n", (3, 1)),
    "document-end-then-more": ("version: 1\nchannels: []\n...\n---\nx: 1\n", ANY),
    "directive-twice": ("%YAML 1.1\n%YAML 1.1\n---\nversion: 1\nchannels: []\n", ANY),
    "directive-yaml-2": ("%YAML 2.0\n---\nversion: 1\nchannels: []\n", ANY),
    # aliases: bounded, and never a way round a rule
    "alias-undefined": ("version: 1\nchannels: *nowhere\n", (2, 11)),
    "alias-to-itself": ("version: 1\nchannels: &a [*a]\n", (2, 15)),
    "alias-forward": ("version: 1\nchannels: [*later]\nx: &later 1\n", (2, 12)),
    "billion-laughs-lists": (_laughs(10, 10), ANY),
    "billion-laughs-mappings": (_laughs(10, 10, mapping=True), ANY),
    "billion-laughs-wide": (_laughs(3, 1000), ANY),
    "quadratic-blowup": (_quadratic(1_000_000, 40), ANY),
    "alias-duplicate-title": (
        HEAD + "      - title: &t Same\n        message: a\n      - title: *t\n"
        "        message: b\n",
        (8, 16),
    ),
    "alias-duplicate-link": (
        HEAD + "      - &l\n        title: Same\n        message: hello\n      - *l\n",
        (9, 9),
    ),
    "alias-duplicate-account": (
        "version: 1\nchannels:\n  - &c\n    account: acmepets\n    display_name: Acme\n  - *c\n",
        (6, 5),
    ),
    "alias-too-long-message": (
        HEAD + f'      - title: a\n        message: &m "{"x" * 501}"\n'
        "      - title: b\n        message: *m\n",
        (9, 18),
    ),
    # syntax
    "unclosed-flow-list": ("version: 1\nchannels: [\n", (3, 1)),
    "unclosed-flow-map": ("version: 1\nchannels: [{account: a\n", ANY),
    "unclosed-single-quote": ("version: 1\nchannels: 'abc\n", ANY),
    "unclosed-double-quote": ('version: 1\nchannels: "abc\n', ANY),
    "bad-escape": ('version: 1\nchannels: "\\q"\n', ANY),
    "bad-indentation": ("version: 1\n  channels: []\n", ANY),
    "block-scalar-bad-indent": ("version: 1\nchannels: |\n  a\n b\n", ANY),
    "colon-without-space": ("version:1\nchannels: []\n", ANY),
    "stray-dash": ("version: 1\nchannels: []\n- x\n", ANY),
    "key-after-sequence": ("- a\nb: c\n", ANY),
    "anchor-without-node": ("version: 1\nchannels: &\n", ANY),
    "reserved-indicator": ("version: 1\nchannels: @x\n", ANY),
    "backtick": ("version: 1\nchannels: `x\n", ANY),
    "simple-key-too-long": ("version: 1\n" + "k" * 2000 + ": x\nchannels: []\n", ANY),
}

EMPTY: dict[str, bytes] = {
    "empty": b"",
    "space": b" ",
    "newlines": b"\n\n\n",
    "crlf-only": b"\r\n\r\n",
    "comment-only": b"# nothing here\n",
    "document-start": b"---\n",
    "document-end": b"...\n",
    "utf8-bom-only": b"\xef\xbb\xbf",
    "null": b"null\n",
    "tilde": b"~\n",
    "empty-list": b"[]\n",
    "empty-mapping": b"{}\n",
    "version-only": b"version: 1\n",
    "channels-only": b"channels: []\n",
    "scalar": b"hello\n",
    "number": b"1\n",
    "list-of-configs": b"- version: 1\n  channels: []\n",
}


def hand_written() -> Iterator[Case]:
    for name, (text, where) in HAND_WRITTEN.items():
        yield Case(name, "yaml", text.encode("utf-8"), where=where)
    for name, data in EMPTY.items():
        yield Case(f"empty-{name}", "empty", data, where=ANY)


# --- binary junk --------------------------------------------------------------------------

_YAML_FORBIDDEN = re.compile("[" + "".join(re.escape(c) for c in FORBIDDEN) + "\ud800-\udfff]")


def surely_invalid(data: bytes) -> bool:
    """True when the bytes can't be a config whatever reconciler does: not UTF-8 (nor
    UTF-16/32 with a byte order mark), or holding a character YAML forbids."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return _YAML_FORBIDDEN.search(text) is not None


def _png() -> bytes:
    import segno

    out = BytesIO()
    segno.make("https://tiktok.me/acmepets?message=hi").save(out, kind="png")
    return out.getvalue()


def _zip() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("workspace.yaml", (2025, 1, 1, 0, 0, 0)), EXAMPLE_TEXT)
    return out.getvalue()


def binary(rng: random.Random, scale: int = 1) -> Iterator[Case]:
    made = 0
    while made < 25 * scale:
        size = rng.choice([1, 2, 3, 8, 64, 512, 4096])
        data = bytes(rng.randrange(256) for _ in range(size))
        if surely_invalid(data):
            made += 1
            yield Case(f"random-{made}-{size}b", "binary", data, where=ANY)
    formats = {
        "gzip": gzip.compress(EXAMPLE_TEXT.encode(), mtime=0),
        "png": _png(),
        "zip": _zip(),
        "executable": Path(sys.executable).resolve().read_bytes()[:65536],
        "utf8-text-then-nul": EXAMPLE_TEXT.encode() + b"\x00" * 16,
        "sqlite-header": b"SQLite format 3\x00" + bytes(rng.randrange(256) for _ in range(100)),
    }
    for name, data in formats.items():
        assert surely_invalid(data), name
        yield Case(f"format-{name}", "binary", data, where=ANY)


# --- the project's fixtures and failures of the file itself -------------------------------


def fixtures() -> Iterator[Case]:
    for path in sorted((FIXTURES / "configs").glob("bad-*.yaml")):
        yield Case(f"fixture-{path.stem}", "fixture", path.read_bytes(), where=ANY)


def _sized(size: int, name: str) -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        path = directory / name
        chunk = b"# " + b"x" * 1021 + b"\n"
        with path.open("wb") as handle:
            handle.write(b"version: 1\nchannels: []\n")
            written = 24
            while written + len(chunk) <= size:
                handle.write(chunk)
                written += len(chunk)
            handle.write(b"#" * (size - written))
        return path

    return make


def _huge_value(field: str, size: int) -> Callable[[Path], Path]:
    """A config with one value (or key, or comment) of ``size`` characters, under the size
    limit; the problem is that value, or a small one after a huge comment."""

    def make(directory: Path) -> Path:
        value = "x" * size
        text = {
            "title": HEAD + f"      - title: {value}\n        message: hi\n",
            "message": HEAD + f"      - title: a\n        message: {value}\n",
            "ref": HEAD + f"      - title: a\n        message: hi\n        ref: {value}\n",
            "display_name": HEAD.replace("display_name: Acme", f"display_name: {value}"),
            "key": HEAD.replace("display_name: Acme", f"display_name: Acme\n    {value}: 1"),
            "comment": f"# {value}\n" + HEAD + "      - title: a\n        message: [x]\n",
        }[field]
        path = directory / f"huge-{field}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return make


HUGE_WHERE = {
    "title": (6, 16),
    "message": (7, 18),
    "ref": (8, 14),
    "display_name": (4, 19),
    "key": ANY,
    "comment": (8, 18),
}


def _link_to(target: str, name: str = "link.yaml") -> Callable[[Path], Path]:
    def make(directory: Path) -> Path:
        path = directory / name
        if not path.is_symlink():
            path.symlink_to(target if target != "self" else name)
        return path

    return make


def _named(name: str) -> Callable[[Path], Path | str]:
    return lambda directory: (directory / name) if name else ""


def _example_copy(directory: Path) -> Path:
    path = directory / "workspace.yaml"
    path.write_text(EXAMPLE_TEXT, encoding="utf-8")
    return path


def file_level(*, big: bool = True) -> Iterator[Case]:
    family = "file"
    yield Case("missing", family, make=_named("missing.yaml"), where=None)
    yield Case("directory", family, make=lambda d: d, where=None)
    yield Case("missing-directory", family, make=_named("no/such/dir/w.yaml"), where=None)
    yield Case("empty-name", family, make=_named(""), where=None)
    yield Case("broken-symlink", family, make=_link_to("nowhere.yaml"), where=None)
    yield Case("symlink-loop", family, make=_link_to("self"), where=None)

    def under_a_file(directory: Path) -> Path:
        (directory / "afile").write_text("x", encoding="utf-8")
        return directory / "afile" / "w.yaml"

    yield Case("under-a-file", family, make=under_a_file, where=None)
    if os.path.exists("/dev/zero"):
        yield Case("dev-zero", family, make=lambda _d: Path("/dev/zero"), where=None)
    if big:
        yield Case("50-mb", "size", make=_sized(50 * 2**20, "big.yaml"), where=None)
        yield Case("limit-plus-one", "size", make=_sized(32 * 2**20 + 1, "big.yaml"), where=None)
    small = (("RECONCILER_MAX_CONFIG_MB", "0.001"),)
    yield Case("over-a-1kb-limit", "size", make=_example_copy, where=None, env=small)
    for raw in ("abc", "0", "-1", "5000", "nan"):
        env = (("RECONCILER_MAX_CONFIG_MB", raw),)
        yield Case(
            f"limit-env-{raw}", "size", make=_example_copy, where=None, env=env,
            names="RECONCILER_MAX_CONFIG_MB",
        )  # fmt: skip
    if os.geteuid() != 0:  # root reads a file whatever its mode

        def unreadable(directory: Path) -> Path:
            path = _example_copy(directory)
            path.chmod(0)
            return path

        yield Case("permission-denied", family, make=unreadable, where=None)
    sizes = {"title": 1_000_000, "message": 1_000_000, "ref": 100_000}
    sizes |= {"display_name": 5_000_000, "key": 1_000_000, "comment": 20_000_000 if big else 100}
    for field, size in sizes.items():
        where = HUGE_WHERE[field]
        yield Case(f"huge-{field}-{size}", "huge", make=_huge_value(field, size), where=where)


# --- the corpus ---------------------------------------------------------------------------


def corpus(seed: int = SEED, scale: int = 1, *, big: bool = True) -> list[Case]:
    """Every case, in a stable order; ``seed`` and ``scale`` vary the generated part (the
    long run uses more of both)."""
    rng = random.Random(seed)
    mutated = list(structural(rng, scale))
    cases = [*mutated, *line_ends(mutated, rng), *damage(rng, scale)]
    cases += [*hand_written(), *binary(rng, scale), *fixtures(), *file_level(big=big)]
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1][:5]
    return cases


def near_misses() -> dict[str, bytes]:
    """Files that look damaged and are valid: the harness must let them through."""
    text = EXAMPLE_TEXT
    vip = "Join our VIP program"
    return {
        "crlf": text.replace("\n", "\r\n").encode(),
        "cr": text.replace("\n", "\r").encode(),
        "utf8-bom": b"\xef\xbb\xbf" + text.encode(),
        "zero-width-no-break-space-inside": text.replace(vip, "Join\ufeff our VIP").encode(),
        "tab-after-colon": text.replace("ref: bio_link", "ref:\tbio_link").encode(),
        "tab-in-comment": text.replace("# Flow Builder", "#\tFlow Builder").encode(),
        "message-500-units": text.replace(vip, "😀" * 250).encode(),
        "message-500-chars": text.replace(vip, "é" * 500).encode(),
        "title-100-chars": text.replace("VIP Program", "V" * 100).encode(),
        "account-24-chars": text.replace("acmepets.global", "a" * 24).encode(),
        "small-aliases": text.replace(
            "message: Join our VIP program", "message: &m Join our VIP program"
        )
        .replace("message: Hi! I came from @petlover's video & want the 15% code.", "message: *m")
        .encode(),
        "str-tag": text.replace("ref: bio_link", "ref: !!str bio_link").encode(),
        "quoted-yes": text.replace("title: VIP Program", 'title: "yes"').encode(),
        "protect-True": text.replace("protect: true", "protect: True").encode(),
        "document-markers": ("---\n" + text + "...\n").encode(),
        "nel-in-quoted": text.replace(vip, '"Join\\x85 our VIP"').encode(),
    }
