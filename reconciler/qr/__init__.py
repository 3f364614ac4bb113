"""QR codes of message links, for posters, flyers and events.

Made with segno (pure Python, no system libraries). :func:`build` is pure: links in, file
names and bytes out; :func:`write` is the one function that touches the disk, and it never
writes outside the directory it is given.

Choices, for print:

- **Error correction Q** (about 25% of the code can be lost): a printed code gets scuffed,
  folded, smudged, laminated with glare or half covered by a thumb. Q survives that, while H
  (30%) would make the codes of these long, percent-encoded URLs markedly denser (a higher
  version, smaller modules at the same print size) for 5% more. Where a code is small
  enough, segno raises it to H at no cost in size. A URL too long for Q falls back to M, then
  L, with a warning (print that code larger, keep it clean); one too long even for L (a
  500-character message in CJK script is) is an error, and nothing is written.
- **Mixed encoding modes**: a URL's percent-encoded part (``%F0%9F%90%B6``: uppercase hex,
  digits, ``%``) fits QR's alphanumeric mode at 5.5 bits a character instead of 8, so a
  message of emoji fits in a code at all. The decoded text is the exact URL.
- **Quiet zone** of 4 modules, as the QR standard requires; **1 mm per module**: SVG is sized
  in millimetres, PNG has 12 pixels per module at 300 dpi (whole pixels, so it scales up
  without blur), well above the ~0.4 mm a phone needs at arm's length.
- **Metadata**: the title is "channel / link title", the description the URL: SVG
  ``<title>`` and ``<desc>``; PNG ``iTXt`` ``Title`` and ``Description`` chunks (UTF-8) and a
  ``tEXt`` ``URL`` chunk (segno writes no PNG text, so they are added here).
- **File names** ``{channel}--{title-slug}.{ext}``: ASCII, lower case, no path separator, no
  leading dot, bounded length. Titles are transliterated to ASCII first (anyascii: "Bio Link
  - Español" is ``bio-link-espanol``); a title the slug can't spell (too long, nothing left)
  gets a short hash of the exact title, and titles that slug alike get theirs too, so every
  name is unique and the same links always get the same names.
- **Runs say what changed**: a file is rewritten only when its bytes change, so a second run
  over the same links writes nothing, and the files written are the codes to reprint. Each
  file carries a stamp (``stamp``: what made it, and a hash of its bytes), so a re-run takes
  a file that provably holds its link's code as it is, without encoding it again. Files
  of links that no longer exist (named as this module names them, in the channels asked for)
  are listed as stale, and removed when asked (``prune``).
"""

from reconciler.qr.batch import build, encode_all
from reconciler.qr.codes import (
    ERROR_LEVELS,
    PNG_DPI,
    PNG_SCALE,
    QUIET_ZONE,
    RECOVERY,
    SVG_MODULE_MM,
    encode,
    render_png,
    render_svg,
)
from reconciler.qr.files import (
    FORMATS,
    HASH_CHARS,
    MAX_CHANNEL,
    MAX_SLUG,
    QrFile,
    Written,
    channel_part,
    filenames,
    slug,
    stale_scope,
    title_hash,
    write,
)

__all__ = [
    "ERROR_LEVELS",
    "FORMATS",
    "HASH_CHARS",
    "MAX_CHANNEL",
    "MAX_SLUG",
    "PNG_DPI",
    "PNG_SCALE",
    "QUIET_ZONE",
    "RECOVERY",
    "SVG_MODULE_MM",
    "QrFile",
    "Written",
    "build",
    "channel_part",
    "encode",
    "encode_all",
    "filenames",
    "render_png",
    "render_svg",
    "slug",
    "stale_scope",
    "title_hash",
    "write",
]
