"""What the http backend and the sandbox both ask of an address: whether it is loopback, what
an API URL is (``parse_api_url``, the one parser of ``--api-url``), which proxy the environment
names for it (``environment_proxy``), which ``Host`` headers name a server (``host_names``)."""

from __future__ import annotations

import ipaddress
import re
import urllib.request
from dataclasses import dataclass

#: A DNS label as a URL's host may hold one (letters, digits, inner hyphens; 1-63 long).
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
#: A port: 1 to 5 ASCII digits (its range is checked apart).
_PORT = re.compile(r"[0-9]{1,5}")
#: What no part of a URL may hold: controls, spaces, backslashes (read as "/" by browsers,
#: as data by others: the same URL naming two places).
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``localhost`` or an IP address; no name lookup) is this machine's
    loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ApiUrl:
    """An API URL as ``parse_api_url`` read it: ``scheme`` and ``host`` in lower case (an IPv6
    address without brackets), ``port`` (None: the scheme's), ``url`` (the whole URL to send
    to, credentials included) and ``shown`` (the URL fit to print: no user or password, no
    trailing slash)."""

    scheme: str
    host: str
    port: int | None
    url: str
    shown: str

    @property
    def loopback(self) -> bool:
        """Whether the URL names this machine."""
        return is_loopback(self.host)


def without_credentials(url: str) -> str:
    """``url`` with any ``user:password@`` removed, by the text alone (so it works on a URL no
    parser accepts): what a message may quote of a URL. Without a ``//`` (a proxy variable
    written ``user:password@host:port`` or ``token@host:port``, as urllib passes it on, or
    a URL missing its slashes) what comes before the ``@`` can't be told from a scheme, so
    all of it goes."""
    slashes = url.find("//")
    if slashes < 0:
        end = min((found for stop in "?#" if (found := url.find(stop)) >= 0), default=len(url))
        return url[url.rfind("@", 0, end) + 1 :]
    start = slashes + 2
    while url[start : start + 1] == "/":
        start += 1
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found >= 0:
            end = min(end, found)
    at = url.rfind("@", start, end)
    return url if at < 0 else url[:start] + url[at + 1 :]


def parse_api_url(text: str) -> ApiUrl:
    """``text`` read as the base URL of an API: ``http`` or ``https`` (any case), a host that
    is an IP address or a DNS name of well-formed labels (``a..b``, ``-a``, ``xn--`` are not),
    an optional port from 1 to 65535, a path, no query or fragment, nothing unprintable.

    Raises ``ValueError`` whose message quotes the URL without its user or password (never
    the credentials, whatever is wrong)."""
    shown = without_credentials(text)
    quoted = repr(shown)
    if _UNSAFE.search(text):
        raise ValueError(f"{quoted} holds a space, a backslash or a control character")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ValueError(f"must be an http:// or https:// URL, not {quoted}")
    scheme = scheme.lower()
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    tail = rest[len(authority) :]
    if "?" in tail or "#" in tail:
        raise ValueError(f"{quoted} has a query or a fragment (give the API's base URL only)")
    hostport = authority.rpartition("@")[2]
    host, port = _host_port(hostport, quoted)
    return ApiUrl(
        scheme=scheme,
        host=host.lower(),  # names are matched ignoring case: LOCALHOST is loopback
        port=port,
        url=f"{scheme}://{rest}",
        shown=f"{scheme}://{hostport}{tail}".rstrip("/"),
    )


def _host_port(hostport: str, quoted: str) -> tuple[str, int | None]:
    """The host (brackets off) and port of a URL's ``host[:port]``; ``ValueError`` naming
    the URL as ``quoted`` for anything else."""
    if hostport.startswith("["):
        host, close, after = hostport[1:].partition("]")
        if not close:
            raise ValueError(f"{quoted} has an unclosed [ in its host")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{quoted}: [{host}] is not an IPv6 address") from None
        if after and not after.startswith(":"):
            raise ValueError(f"{quoted} has something after its host's ]")
        colon, port_text = after[:1], after[1:]
    else:
        host, colon, port_text = hostport.partition(":")
        if not host:
            raise ValueError(f"{quoted} names no host")
        _check_name(host, quoted)
    if not colon:
        return host, None
    if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{quoted} has a port that is not a number from 1 to 65535")
    return host, int(port_text)


def _check_name(host: str, quoted: str) -> None:
    """``ValueError`` unless ``host`` is an IPv4 address or a DNS name whose labels are all
    well formed (an ``xn--`` label must hold Punycode). A name in other scripts is left to
    the HTTP client's IDNA encoder."""
    if not host.isascii():
        return
    try:
        ipaddress.IPv4Address(host)
        return
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(f"{quoted}: {host!r} is not a host name")
    for label in name.split("."):
        if label[:4].lower() == "xn--":
            try:
                decoded = label[4:].encode("ascii").decode("punycode")
            except UnicodeError:
                decoded = ""
            if not decoded or decoded.isascii():
                raise ValueError(f"{quoted}: {host!r} is not a host name (bad Punycode)")


def host_header_name(value: str) -> str | None:
    """The host a ``Host`` header names (``127.0.0.1:8787`` -> ``127.0.0.1``, ``[::1]:80``
    -> ``::1``, lower case); None for a value that is not ``host[:port]``."""
    value = value.strip().lower()
    if value.startswith("["):
        host, close, after = value[1:].partition("]")
        if not close or (after and not re.fullmatch(r":[0-9]{0,5}", after)):
            return None
        return host
    host, _, port = value.partition(":")
    if not host or (port and not _PORT.fullmatch(port)) or _UNSAFE.search(host):
        return None
    return host


def environment_proxy(api_url: ApiUrl) -> str | None:
    """The proxy URL the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, less
    ``NO_PROXY``) names for ``api_url``, credentials and all (``without_credentials`` before it
    is shown); None for none, and always for a loopback URL (never sent through one)."""
    if api_url.loopback:
        return None
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(api_url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(api_url.host):
        return None
    return proxy
