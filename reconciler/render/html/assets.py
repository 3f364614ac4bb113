"""The page's style sheet and script, and the Content-Security-Policy that allows exactly them.

Both are files beside this module (``page.css``, ``page.js``), shipped in the package and put
inline into the page: nothing is fetched. The policy forbids every fetch (``default-src
'none'``: no script, style, font, image, frame or connection from anywhere), and lets the
inline style and script run only by their sha256, so an injected ``<script>`` or ``style``
attribute would not run even if escaping ever failed.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources


@cache
def asset(name: str) -> str:
    """The text of ``page.css`` or ``page.js``."""
    return resources.files("reconciler.render.html").joinpath(name).read_text("utf-8")


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(style: str, script: str) -> str:
    """The policy of a page whose only style is ``style`` and only script ``script``."""
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {_sha256(style)}",
            f"script-src {_sha256(script)}",
            "img-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
