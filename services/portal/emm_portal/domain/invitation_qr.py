"""The invitation link of a session, and its QR code as SVG to show on a screen or print.

The SVG is drawn by `segno` with presentation attributes only (no `style`), so the portal's
Content-Security-Policy lets it in inline. It keeps its viewBox, so it scales to its container
for print, with a width and height in pixels for where no stylesheet sizes it.
"""

from __future__ import annotations

from urllib.parse import quote

import segno
from markupsafe import Markup

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks for scanners to find it
MODULE_PIXELS = 4  # a code of an invitation token (version 13, 69 modules) is then 308 pixels wide


def invitation_url(public_base_url: str, token: str) -> str:
    """The portal page where a person enrolls themselves with an invitation token."""
    return f"{public_base_url.rstrip('/')}/invitations/{quote(token, safe='')}"


def qr_svg(url: str, title: str, module_pixels: int = MODULE_PIXELS) -> Markup:
    """`url` as a QR code (error correction M at least: still readable with a fold or a smudge on paper),
    an inline <svg> whose <title> (and accessible name) is `title`."""
    code = segno.make(url, error="m")
    size = code.symbol_size(scale=module_pixels, border=QUIET_ZONE)[0]
    svg = code.svg_inline(scale=1, border=QUIET_ZONE, omitsize=True, title=title, svgclass="qr", lineclass=None,
                          dark="#000", light="#fff")
    # svg_inline gives a viewBox only; a size in pixels as well keeps the modules crisp and readable.
    return Markup(svg.replace("<svg ", f'<svg width="{size}" height="{size}" role="img" aria-label="{_attr(title)}" ',
                              1))


def _attr(text: str) -> str:
    return str(Markup.escape(text))
