"""What the http backend and the sandbox both ask of an address."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``localhost`` or an IP address; no name lookup) is this machine's
    loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
