"""The page of links for marketers as one self-contained HTML file (``links --format html``).

- ``document``: the page itself: a ``LinksPage`` in, the HTML text out;
- ``assets``: its style sheet and script (``page.css``, ``page.js`` beside this file), read
  from the package, and the Content-Security-Policy that lets only those two run;
- ``qrcode``: a link's QR code as its modules, which ``page.js`` draws as inline SVG.
"""

from __future__ import annotations

from reconciler.render.html.document import render_page

__all__ = ["render_page"]
