"""Avatars drawn by the app: a small symmetric pattern made from the user name.

The classic minitwit linked to Gravatar; an external image service leaks who
reads which page and does not work offline, so each avatar here is an SVG
"identicon" computed from the name alone: the same name always gives the same
picture, different names almost always different ones.
"""

from __future__ import annotations

import hashlib

__all__ = ["identicon_svg"]

#: Cells per side; columns beyond the middle mirror the left half.
GRID = 5


def identicon_svg(name: str) -> str:
    """The SVG image (as text) of ``name``'s avatar.

    Case is ignored, since user names are unique ignoring case. Nothing of the
    name itself goes into the image, so it needs no escaping.
    """
    digest = hashlib.sha256(name.lower().encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    color = f"hsl({hue},55%,48%)"
    bits = int.from_bytes(digest[2:6], "big")
    half = (GRID + 1) // 2
    rects = []
    for row in range(GRID):
        for col in range(half):
            if bits >> (row * half + col) & 1:
                for x in {col, GRID - 1 - col}:
                    rects.append(f'<rect x="{x}" y="{row}" width="1" height="1"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="-0.5 -0.5 6 6"'
        ' width="48" height="48" shape-rendering="crispEdges">'
        '<rect x="-0.5" y="-0.5" width="6" height="6" fill="#f2f2f0"/>'
        f'<g fill="{color}">{"".join(sorted(rects))}</g></svg>'
    )
