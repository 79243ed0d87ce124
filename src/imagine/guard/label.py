"""The visible "Imagined with AI" label: a small plate in the bottom-right corner.

Drawn before the watermark, so the mark covers the plate too. The text scales with the image
(about 1/20 of its height), so a 256 px image and a 1024 px one carry the same-looking label.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

DEFAULT_TEXT = "Imagined with AI"


def add_label(image: Image.Image, text: str = DEFAULT_TEXT) -> Image.Image:
    """A copy of ``image`` (RGB) with ``text`` on a translucent dark plate in the bottom-right corner."""
    if not text.strip():
        raise ValueError("label text must not be empty (turn the label off instead)")
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
    left, top = w - margin - box_w, h - margin - box_h
    draw.rounded_rectangle((left, top, left + box_w, top + box_h), radius=pad, fill=(0, 0, 0, 140))
    draw.text((left + pad - x0, top + pad - y0), text, font=font, fill=(255, 255, 255, 235))
    return Image.alpha_composite(base, overlay).convert("RGB")
