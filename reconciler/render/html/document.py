"""The page of links as HTML: a ``LinksPage`` in, one self-contained document out.

Every piece of data is escaped with the standard library's ``html.escape`` (quotes too, so it
is safe in an attribute) after lone surrogates are written as escapes; titles, messages and
names sit in ``<bdi>`` so a right-to-left or bidi-control character in one can't reorder the
text around it. The page works without its script: every link, URL and QR code is there, and
the channel list is plain anchors; the script only adds the search box and copy buttons.
"""

from __future__ import annotations

from html import escape

from reconciler.links import LinkRow, UrlChangeRow
from reconciler.model import ChannelStatus
from reconciler.page import LinksPage, PageLink
from reconciler.render import escape_surrogates
from reconciler.render.html.assets import asset, content_security_policy
from reconciler.render.html.qrcode import inline_svg
from reconciler.words import plural


def text(value: str) -> str:
    """``value`` as HTML text or attribute content."""
    return escape(escape_surrogates(value), quote=True)


def _bdi(value: str) -> str:
    return f"<bdi>{text(value)}</bdi>"


def render_page(page: LinksPage) -> str:
    """The whole page: head (policy, style, script), header with counts and search, the
    links whose URL changed, then every link by channel."""
    style, script = asset("page.css"), asset("page.js")
    channels = _by_channel(page.links)
    n_links, n_channels = len(page.links), len(channels)
    title = f"Message links: {page.workspace}"
    head = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{text(content_security_policy(style, script))}">',  # noqa: E501
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)}</title>",
        f"<style>{style}</style>",
        "</head>",
    ]
    body = [
        "<body>",
        "<header>",
        "<h1>Message links</h1>",
        f'<p class="meta">{plural(n_links, "link")} in {plural(n_channels, "channel")} of '
        f"<bdi>{text(page.workspace)}</bdi>. "
        f"{_changed_line(page)}</p>",
        '<p class="search" id="search" hidden><label for="q">Search</label> '
        '<input id="q" type="search" placeholder="Title, ref, message or URL" '
        'autocomplete="off" spellcheck="false"> <span id="count" class="note" '
        'aria-live="polite"></span></p>',
        "<noscript><p class=\"note\">Scripts are off: search with your browser's Find "
        "(Ctrl+F); select a URL to copy it.</p></noscript>",
        _nav(channels),
        "</header>",
        "<main>",
        *_changes(page),
        *(_channel(i, rows) for i, rows in enumerate(channels, start=1)),
        "</main>",
        "<footer><p>Made by reconciler (<code>reconciler links --format html</code>). "
        "Nothing on this page is fetched from anywhere; the only addresses on it are the "
        "links.</p></footer>",
        f"<script>{script}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(head + body) + "\n"


#: A link on the page with its number (its card's anchor is ``link-N``).
Numbered = tuple[int, PageLink]


def _by_channel(links: tuple[PageLink, ...]) -> list[list[Numbered]]:
    """The links numbered from 1, in runs of one channel."""
    groups: list[list[Numbered]] = []
    for i, link in enumerate(links, start=1):
        if not groups or groups[-1][0][1].row.channel != link.row.channel:
            groups.append([])
        groups[-1].append((i, link))
    return groups


def _changed_line(page: LinksPage) -> str:
    n = page.changed
    if n == 0:
        return f"No link got a new URL {text(page.window)}."
    return f'<a href="#changed">{plural(n, "link")} got a new URL {text(page.window)}</a>.'


def _nav(channels: list[list[Numbered]]) -> str:
    if len(channels) < 2:
        return ""
    items = "".join(
        f'<li><a href="#ch-{i}">{_bdi(_channel_name(rows[0][1].row))}</a></li>'
        for i, rows in enumerate(channels, start=1)
    )
    return f'<nav aria-label="Channels"><ul>{items}</ul></nav>'


def _channel_name(row: LinkRow) -> str:
    return row.display_name or row.channel


def _changes(page: LinksPage) -> list[str]:
    """The summary of what to replace: each changed link (its card has both URLs), and the
    links removed since whose old URL still works."""
    changed = [(i, link) for i, link in enumerate(page.links, start=1) if link.change]
    if not changed and not page.gone:
        return []
    out = ['<section id="changed" aria-labelledby="changed-h">']
    out.append(f'<h2 id="changed-h">New URLs {text(page.window)}</h2>')
    if changed:
        out.append(
            '<p class="note">Editing a link gives it a new URL; the old one keeps working '
            "with the <strong>old</strong> message. Replace it wherever it is shared: bios, "
            "ads, posters, flyers.</p><ul>"
        )
        for i, link in changed:
            assert link.change is not None
            out.append(
                f'<li><a href="#link-{i}">{_bdi(link.row.channel)} / {_bdi(link.row.title)}</a> '
                f"(likely in: {text(link.change.where)})</li>"
            )
        out.append("</ul>")
    if page.gone:
        out.append(
            '<p class="note">Removed since, after a new URL (their last URL keeps working, '
            "untracked):</p><ul>"
        )
        out.extend(
            f"<li>{_bdi(c.channel)} / {_bdi(c.title)}: <code>{text(c.new_url)}</code></li>"
            for c in page.gone
        )
        out.append("</ul>")
    out.append("</section>")
    return out


def _channel(index: int, links: list[Numbered]) -> str:
    first = links[0][1].row
    status = (
        ' <span class="disconnected">disconnected: its links may not reach SleekFlow until '
        "it is reconnected</span>"
        if first.status is ChannelStatus.DISCONNECTED
        else ""
    )
    cards = "\n".join(_card(i, link) for i, link in links)
    return (
        f'<section class="channel" id="ch-{index}" aria-labelledby="ch-{index}-h">\n'
        f'<h2 id="ch-{index}-h">{_bdi(_channel_name(first))} '
        f'<span class="account">@{_bdi(first.channel)}</span>{status}</h2>\n'
        f'<div class="cards">\n{cards}\n</div>\n</section>'
    )


def _card(number: int, link: PageLink) -> str:
    row, change = link.row, link.change
    svg = inline_svg(row.url)
    qr = (
        f'<figure class="qr"><div role="img" aria-label="QR code of this link">{svg}</div>'
        "</figure>"
        if svg is not None
        else '<p class="note">The URL is too long for a QR code: shorten the message.</p>'
    )
    ref = f"<dt>Ref</dt><dd><code>{text(row.ref)}</code></dd>" if row.ref is not None else ""
    badge = '<p><span class="badge">New URL</span></p>' if change is not None else ""
    old = _old(change) if change is not None else ""
    classes = "link changed" if change is not None else "link"
    return (
        f'<article class="{classes}" id="link-{number}">'
        f"<h3>{_bdi(row.title)}</h3>{badge}"
        f"<dl>{ref}<dt>Message</dt><dd>{_bdi(row.message)}</dd></dl>"
        f'<p class="url"><a href="{text(row.url)}" rel="noreferrer">{text(row.url)}</a>'
        '<button type="button" class="copy" hidden>Copy</button></p>'
        f"{old}{qr}</article>"
    )


def _old(change: UrlChangeRow) -> str:
    return (
        '<div class="old"><p>Old URL, still shared? Replace it (likely in: '
        f'{text(change.where)}):</p><p class="old-url">{text(change.old_url)}</p></div>'
    )
