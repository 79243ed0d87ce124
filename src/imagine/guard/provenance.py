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
from typing import TYPE_CHECKING

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from imagine.guard import watermark
from imagine.guard.c2pa_sign import SigningConfig, sign_png, sign_transcoded
from imagine.guard.label import add_label
from imagine.guard.ledger import Ledger
from imagine.guard.metadata import PARAMETERS_KEY, XMP_KEY, GenerationInfo, format_parameters, xmp_packet

if TYPE_CHECKING:
    from imagine.config import GuardSettings, Settings

__all__ = ["GenerationInfo", "OUTPUT_FORMATS", "Stamper", "encode_as", "stamp", "to_delivered_size"]

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


class Stamper:
    """Stamps images with everything loaded once: the guard settings, the ledger and the signing chain.

    Build it at the edge (`Stamper.from_settings`) and keep it: the ledger and the keys are opened once,
    not per image. Safe to share between threads (the ledger opens one short SQLite transaction per call).
    """

    def __init__(self, guard: "GuardSettings", ledger: Ledger, signing: SigningConfig) -> None:
        self.guard, self.ledger, self.signing = guard, ledger, signing

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Stamper":
        return cls(settings.guard, Ledger(settings.data_home / "guard" / "issued.sqlite"),
                   SigningConfig.from_settings(settings))

    def stamp(self, image: Image.Image, info: GenerationInfo, *, visible_label: bool | None = None,
              include_prompt: bool = True) -> bytes:
        """The delivered PNG bytes: upscaled, labelled, watermarked, with metadata and a signed C2PA manifest.

        ``info.generation_id`` is drawn (and ``info.width``/``height`` set) when missing; the issued id is
        recorded in the ledger. ``visible_label`` None means the configured ``guard.visible_label``.
        """
        g = self.guard
        model16 = watermark.model_id16(info.model_id)
        if info.generation_id is None:
            info.generation_id = self.ledger.new_generation_id(model16)

        out = to_delivered_size(image, g.delivered_size)
        if g.visible_label if visible_label is None else visible_label:
            out = add_label(out, g.label_text, g.label_corners)
        payload = watermark.Payload(info.generation_id, model16)
        out = watermark.embed(out, payload, g.watermark_key, g.watermark_strength)
        info.width, info.height = out.size

        text = PngInfo()
        text.add_text(PARAMETERS_KEY, format_parameters(info, include_prompt=include_prompt))
        text.add_itxt(XMP_KEY, xmp_packet(info), zip=False)
        buf = io.BytesIO()
        out.save(buf, format="PNG", pnginfo=text, compress_level=6)
        signed = sign_png(buf.getvalue(), info, self.signing)

        self.ledger.record(payload.generation, payload.model, info.model_id, hashlib.sha256(signed).hexdigest(),
                           info.created_at)
        log.debug("stamped generation %s (%d bytes)", payload.hex, len(signed))
        return signed


OUTPUT_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def encode_as(png: bytes, output_format: str, quality: int, signing: SigningConfig) -> bytes:
    """A stamped PNG re-encoded as ``output_format`` (png: unchanged) at ``quality`` (1-100): same pixels (the
    watermark and label are in them), the same XMP packet, and a C2PA manifest that records the signed PNG as
    its parent (``c2pa.transcoded``), so the credentials say what the PNG's said."""
    if output_format not in OUTPUT_FORMATS:
        raise ValueError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}, got {output_format!r}")
    if output_format == "png":
        return png
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be from 1 to 100, got {quality}")
    image = Image.open(io.BytesIO(png))
    image.load()
    xmp = image.info.get(XMP_KEY)
    buffer = io.BytesIO()
    options = {"quality": quality} | ({"xmp": xmp.encode()} if isinstance(xmp, str) else {})
    if output_format == "webp" and quality == 100:
        options["lossless"] = True
    image.convert("RGB").save(buffer, format=output_format.upper(), **options)
    return sign_transcoded(buffer.getvalue(), OUTPUT_FORMATS[output_format], png, signing)


def stamp(image: Image.Image, info: GenerationInfo, *, settings: "Settings", visible_label: bool = True,
          include_prompt: bool = True) -> bytes:
    """One image stamped with a `Stamper` built from ``settings`` (for one-off use; keep a `Stamper` for many)."""
    return Stamper.from_settings(settings).stamp(image, info, visible_label=visible_label,
                                                 include_prompt=include_prompt)
