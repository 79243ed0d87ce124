"""Provenance stamped on every delivered image, in the order that keeps each layer intact.

1. upscale the model's output to the delivered size (Lanczos; at least 256 px so the mark has room);
2. draw the visible label (optional; ``guard.label_corners``), so the watermark covers it too;
3. embed the invisible watermark carrying (generation id, model id);
4. write PNG text: A1111 ``parameters`` (prompt optional) and the IPTC XMP packet;
5. sign a C2PA manifest over the final bytes (it hashes the pixels and the text chunks);
6. record the issued generation id, so `verify` can later say "made here".
"""

from __future__ import annotations

import hashlib
import io
import logging

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from imagine.guard import watermark
from imagine.guard.c2pa_sign import SigningConfig, sign_png
from imagine.guard.label import add_label
from imagine.guard.ledger import Ledger
from imagine.guard.metadata import PARAMETERS_KEY, XMP_KEY, GenerationInfo, format_parameters, xmp_packet

__all__ = ["GenerationInfo", "stamp", "to_delivered_size"]

log = logging.getLogger(__name__)
MIN_SIZE = 256


def to_delivered_size(image: Image.Image, size: int) -> Image.Image:
    """Scale so the longer side is ``size`` px (Lanczos), keeping the aspect ratio."""
    if size < MIN_SIZE:
        raise ValueError(f"delivered size must be at least {MIN_SIZE} px (the watermark needs room), got {size}")
    image = image.convert("RGB")
    w, h = image.size
    scale = size / max(w, h)
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image if target == image.size else image.resize(target, Image.Resampling.LANCZOS)


def stamp(
    image: Image.Image,
    info: GenerationInfo,
    *,
    visible_label: bool = True,
    include_prompt: bool = True,
    settings=None,
    ledger: Ledger | None = None,
    signing: SigningConfig | None = None,
) -> bytes:
    """The delivered PNG bytes: upscaled, labelled, watermarked, with metadata and a signed C2PA manifest.

    ``info.generation_id`` is drawn (and ``info.width``/``height`` set) when missing; the issued id is
    recorded in ``ledger`` (default: the data home's). ``settings`` defaults to `get_settings()`.
    """
    from imagine.config import get_settings

    g = (settings or get_settings()).guard
    ledger = ledger or Ledger.default(settings)
    signing = signing or SigningConfig.from_settings(settings)
    model16 = watermark.model_id16(info.model_id)
    if info.generation_id is None:
        info.generation_id = ledger.new_generation_id(model16)

    out = to_delivered_size(image, g.delivered_size)
    if visible_label:
        out = add_label(out, g.label_text, g.label_corners)
    payload = watermark.Payload(info.generation_id, model16)
    out = watermark.embed(out, payload, g.watermark_key, g.watermark_strength)
    info.width, info.height = out.size

    text = PngInfo()
    text.add_text(PARAMETERS_KEY, format_parameters(info, include_prompt=include_prompt))
    text.add_itxt(XMP_KEY, xmp_packet(info), zip=False)
    buf = io.BytesIO()
    out.save(buf, format="PNG", pnginfo=text, compress_level=6)
    signed = sign_png(buf.getvalue(), info, signing)

    ledger.record(payload.generation, payload.model, info.model_id, hashlib.sha256(signed).hexdigest(), info.created_at)
    log.debug("stamped generation %s (%d bytes)", payload.hex, len(signed))
    return signed
