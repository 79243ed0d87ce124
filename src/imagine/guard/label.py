"""The visible "Imagined with AI" label: small plates in chosen corners.

Drawn before the watermark, so the mark covers the plates too. The text scales with the image
(about 1/20 of its height), so a 256 px image and a 1024 px one carry the same-looking label.
Corners are where a subject rarely is; the default puts a plate in two opposite corners
(bottom-right and top-left), so cropping one edge strip - the bottom rows, or the right side -
leaves the other plate in place. One corner alone is a setting away (``guard.label_corners``).
"""

from __future__ import annotations

from typing import get_args

from PIL import Image, ImageDraw, ImageFont

from imagine.config import LabelCorner

DEFAULT_TEXT = "Imagined with AI"
CORNERS: tuple[str, ...] = get_args(LabelCorner)
DEFAULT_CORNERS = ("bottom-right", "top-left")


def add_label(image: Image.Image, text: str = DEFAULT_TEXT, corners: tuple[str, ...] | list[str] = DEFAULT_CORNERS) -> Image.Image:
    """A copy of ``image`` (RGB) with ``text`` on a translucent dark plate in each of ``corners``."""
    if not text.strip():
        raise ValueError("label text must not be empty (turn the label off instead)")
    unknown = [c for c in corners if c not in CORNERS]
    if unknown or not corners:
        raise ValueError(f"label corners must be a non-empty selection of {CORNERS}, got {list(corners)}")
    base = image.convert("RGBA")
    w, h = base.size
    font = ImageFont.load_default(size=max(9, h // 20))
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    pad, margin = max(2, h // 100), max(2, h // 64)
    box_w, box_h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    if box_w + 2 * margin > w:
        raise ValueError(f"label {text!r} does not fit a {w} px wide image")
    for corner in dict.fromkeys(corners):
        vertical, horizontal = corner.split("-")
        left = w - margin - box_w if horizontal == "right" else margin
        top = h - margin - box_h if vertical == "bottom" else margin
        draw.rounded_rectangle((left, top, left + box_w, top + box_h), radius=pad, fill=(0, 0, 0, 140))
        draw.text((left + pad - x0, top + pad - y0), text, font=font, fill=(255, 255, 255, 235))
    return Image.alpha_composite(base, overlay).convert("RGB")
