"""HTTP/1.1 on the sandbox's sockets: a request's line (``request_line``), header lines
(``read_headers``) and body (``read_body``) read, and a response written as one buffer
(``response``).

The request line is read as ``http.server.BaseHTTPRequestHandler.parse_request`` reads it
(its checks and errors, as Python 3.11-3.13 have them); the header lines as
``http.client.parse_headers`` reads them (its line and count limits, its errors). A block of
plain ``name: value`` lines, as every client sends, is taken here in one pass; anything else
goes to the standard library's reader (``email.parser``, some 20 times slower), which decides
as it always did, and this module then refuses what it reads as more than plain lines (RFC
9112 sections 5 and 2.2): a line that is not ``name: value`` (a space before the colon), a
header folded onto the next line (obs-fold), or a bare CR inside a line.
"""

from __future__ import annotations

import email.parser
import email.utils
import http.client
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from io import BufferedIOBase

from reconciler.errors import ApiProblem

#: The largest request body taken.
MAX_BODY_BYTES = 64 * 1024
#: http.client's limits: the longest header line, the most header lines.
MAX_LINE = 65536
MAX_HEADERS = 100

#: A plain header line: a token, a colon, optional blanks, then a value of visible ASCII,
#: blanks and Latin-1 letters, ending the line. Nothing the standard library's reader could
#: read another way: no CR but the line's end, and none of the characters some Pythons'
#: readers break lines at (str.splitlines: VT, FF, FS, GS, RS, NEL).
_PLAIN = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\x84\x86-\xff]*)\r?\n")
#: A CR that doesn't end a line: the standard library's reader breaks the line there, RFC
#: 9112 (section 2.2) doesn't, so a proxy in front and this server would read different
#: headers ("X: a\rContent-Length: 5"): refused.
_BARE_CR = re.compile(rb"\r(?!\n)")
#: The lines that end a header block.
_END = (b"\r\n", b"\n", b"")
#: The reason phrase of each status (none for a status HTTPStatus doesn't know).
_PHRASES = {status.value: status.phrase for status in HTTPStatus}


@dataclass(frozen=True, slots=True)
class RequestLine:
    """A request line as ``BaseHTTPRequestHandler.parse_request`` reads it: ``command``,
    ``path`` (a leading ``//`` made one ``/``), ``version`` (``HTTP/0.9`` when it names none,
    or one that is refused), ``keep_alive`` (HTTP/1.1 or later); or ``refusal``, the status
    and message of a line that is refused (its answer is sent as ``version``)."""

    command: str = ""
    path: str = ""
    version: str = "HTTP/0.9"
    keep_alive: bool = False
    refusal: tuple[int, str] | None = None


def request_line(line: str) -> RequestLine:
    """The request line ``line`` (without its line break; one word at least)."""
    words = line.split()
    keep_alive = False
    version = "HTTP/0.9"
    if len(words) == 3 and words[2] == "HTTP/1.1":  # as every client sends it
        keep_alive, version = True, words[2]
    elif len(words) >= 3:
        # RFC 2145 section 3.1: one ".", major and minor numbers read as separate integers,
        # leading zeros ignored.
        major, dot, minor = words[-1].removeprefix("HTTP/").partition(".")
        numbers = (major, minor)
        if (
            not words[-1].startswith("HTTP/")
            or not dot
            or "." in minor
            or not all(n.isdigit() and len(n) <= 10 for n in numbers)
        ):
            return RequestLine(refusal=(400, f"Bad request version ({words[-1]!r})"))
        try:
            number = int(major), int(minor)
        except ValueError:  # a digit int() doesn't read, as "²"
            return RequestLine(refusal=(400, f"Bad request version ({words[-1]!r})"))
        keep_alive = number >= (1, 1)
        if number >= (2, 0):
            return RequestLine(refusal=(505, f"Invalid HTTP version ({major}.{minor})"))
        version = words[-1]
    if not 2 <= len(words) <= 3:
        return RequestLine(
            version=version, refusal=(400, f"Bad request syntax ({' '.join(words)!r})")
        )
    command, path = words[:2]
    if len(words) == 2:
        keep_alive = False
        if command != "GET":
            return RequestLine(refusal=(400, f"Bad HTTP/0.9 request type ({command!r})"))
    # gh-87389: a path starting "//" is read by clients as a URL without its scheme (an
    # open redirect): reduced to one "/".
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return RequestLine(command=command, path=path, version=version, keep_alive=keep_alive)


@dataclass(frozen=True, slots=True)
class Head:
    """A request's headers: as the standard library's ``HTTPMessage`` (``message``), and each
    header's values by its name in lower case, in the order sent (``fields``: indexed once,
    where ``Message.get`` lowers every header's name at each look-up)."""

    message: http.client.HTTPMessage
    fields: dict[str, list[str]]


def read_headers(rfile: BufferedIOBase) -> Head | None:
    """The header lines of a request from ``rfile`` (after its request line), up to and with
    the blank line; None when they are not all plain ``name: value`` lines (a 400). Raises
    ``http.client.LineTooLong`` for a line over ``MAX_LINE`` bytes and
    ``http.client.HTTPException`` for more than ``MAX_HEADERS`` lines, as
    ``http.client.parse_headers`` does."""
    lines = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in _END:
            break
    message = http.client.HTTPMessage()
    fields: dict[str, list[str]] = {}
    for line in lines[:-1]:
        plain = _PLAIN.fullmatch(line)
        if plain is None:
            return _read_by_email(b"".join(lines))
        # What the standard library's reader makes of the line (compat32's
        # header_source_parse): the name as sent, the value without its leading blanks.
        name, value = plain.group(1).decode("latin-1"), plain.group(2).decode("latin-1")
        message.set_raw(name, value)
        fields.setdefault(name.lower(), []).append(value)
    return Head(message, fields)


def _read_by_email(block: bytes) -> Head | None:
    """``block`` read as ``http.client.parse_headers`` reads it; None when that reading finds
    more than plain lines: a defect, lines left unread as a body (a line that is not
    ``name: value`` ends the headers early), a value folded over two lines, or a bare CR
    (which that reader, unlike RFC 9112, takes for a line break)."""
    if _BARE_CR.search(block):
        return None
    headers = email.parser.Parser(_class=http.client.HTTPMessage).parsestr(
        block.decode("iso-8859-1")
    )
    unread = headers.defects or headers.get_payload()
    folded = any("\n" in value or "\r" in value for value in headers.values())
    if unread or folded:
        return None
    fields: dict[str, list[str]] = {}
    for name, value in headers.items():
        fields.setdefault(name.lower(), []).append(value)
    return Head(headers, fields)


def read_body(headers: dict[str, list[str]], rfile: BufferedIOBase) -> bytes | None:
    """The body of a request with ``headers`` (``Head.fields``) from ``rfile``, or None when the
    client went away before sending all of it. An ApiProblem for a body this server doesn't
    read: only Content-Length framing, stated once, is taken (a Transfer-Encoding of any
    coding, or a second Content-Length, is where a proxy and this server could read different
    request boundaries: request smuggling), and no body over ``MAX_BODY_BYTES``."""
    lengths = headers.get("content-length", [])
    length_header = lengths[0] if lengths else None
    if "transfer-encoding" in headers:
        raise ApiProblem(411, "length-required", "send a Content-Length, not a chunked body")
    if len(lengths) > 1:
        raise ApiProblem(400, "bad-request", "Content-Length is given more than once")
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses
    if length_header is not None and not re.fullmatch(r"[0-9]+", length_header.strip()):
        raise ApiProblem(400, "bad-request", "Content-Length is not a non-negative integer")
    length = int(length_header) if length_header else 0
    if length > MAX_BODY_BYTES:
        raise ApiProblem(413, "payload-too-large", f"the body is over {MAX_BODY_BYTES} bytes")
    if not length:
        return b""
    try:
        raw = rfile.read(length)
    except OSError:  # a timeout or a reset mid-body
        raw = b""
    return None if len(raw) < length else raw


@lru_cache(maxsize=4)
def _date(second: int) -> str:
    """The ``Date`` of a response sent in ``second`` (RFC 9110's IMF-fixdate)."""
    return email.utils.formatdate(second, usegmt=True)


def response(
    version: str, status: int, headers: list[tuple[str, str]], body: bytes, *, server: str
) -> bytes:
    """A response as one buffer, for one write: the status line of ``version`` (the handler's
    ``protocol_version``), ``Server`` and ``Date``, ``headers`` in their order, and ``body``
    (a headers-only answer to a HEAD passes ``b""``). As ``BaseHTTPRequestHandler`` writes
    them, without a write (and a TCP segment) for the head and another for the body."""
    phrase = _PHRASES.get(status, "")
    date = _date(int(time.time()))
    lines = [f"{version} {status} {phrase}\r\nServer: {server}\r\nDate: {date}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers)
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + body
