"""Check a file for every provenance layer `provenance.stamp` adds, independently of each other.

Each layer answers a different question and fails differently: the watermark survives re-encoding
and resizing (who made it, which generation); plain metadata is easily stripped (what was asked);
the C2PA manifest is lost on re-encode (reported ``missing``) but any edit of a signed file breaks
its hashes (reported ``tampered``). "Generated here" is a lookup of the payload in our ledger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from imagine.guard import watermark
from imagine.guard.c2pa_sign import C2paReport, SigningConfig, read_c2pa
from imagine.guard.ledger import Issued, Ledger
from imagine.guard.metadata import PARAMETERS_KEY, XMP_KEY, digital_source_type, parse_parameters
from imagine.images import open_image, read_capped


@dataclass(frozen=True)
class WatermarkReport:
    """``found`` exactly when a payload with a valid checksum was read above the threshold: a found
    mark always says whose it is, and an unreadable one is reported not found."""

    found: bool
    payload: str | None  # "gggggggg-mmmm" (generation id, model id); set exactly when found
    generation_id: int | None
    model_id16: int | None
    confidence: float
    score: float
    threshold: float
    geometry: dict | None  # how the picture was changed since stamping (scale, angle, flipped), when found


@dataclass(frozen=True)
class VerifyReport:
    format: str
    size: tuple[int, int]
    watermark: WatermarkReport
    parameters: dict[str, str] | None  # parsed A1111 parameters, when present
    digital_source_type: str | None  # from XMP, else from the C2PA created action
    c2pa: C2paReport
    generated_here: bool
    issued: Issued | None  # the ledger's record, when generated here

    def to_dict(self) -> dict:
        return asdict(self)


def _read_text_metadata(img: Image.Image) -> tuple[dict[str, str] | None, str | None]:
    info = img.info
    params = None
    raw = info.get(PARAMETERS_KEY)
    if isinstance(raw, str):
        try:
            params = parse_parameters(raw)
        except ValueError:
            params = {"raw": raw}
    xmp = info.get(XMP_KEY) or info.get("xmp")  # PNG iTXt, or the XMP segment PIL reads from JPEG/WebP
    return params, digital_source_type(xmp) if xmp else None


def verify(
    path_or_bytes: str | Path | bytes,
    *,
    settings=None,
    ledger: Ledger | None = None,
) -> VerifyReport:
    """Report watermark, metadata, C2PA validity and whether this installation issued the file."""
    from imagine.config import get_settings

    s = settings or get_settings()
    data = read_capped(path_or_bytes)
    # As stored: no EXIF rotation or mode change, the watermark and metadata are read from the file's own pixels.
    img = open_image(data, mode=None, transpose=False)  # ImageRejected (a ValueError) says what is wrong

    found = watermark.detect(img, s.guard.watermark_key, threshold=s.guard.watermark_threshold)
    payload = found.payload
    wm = WatermarkReport(
        found=found.present, payload=payload.hex if payload else None,
        generation_id=payload.generation if payload else None, model_id16=payload.model if payload else None,
        confidence=round(found.confidence, 4), score=round(found.score, 2), threshold=found.threshold,
        geometry={"scale": found.scale, "angle": found.angle, "flipped": found.flipped} if payload else None,
    )
    params, source = _read_text_metadata(img)
    c2pa = read_c2pa(data, SigningConfig.from_settings(s).trust_anchors_pem)
    issued = None
    if payload is not None:
        issued = (ledger or Ledger.default(s)).lookup(payload.generation, payload.model)
    return VerifyReport(
        format=img.format or "unknown", size=img.size, watermark=wm, parameters=params,
        digital_source_type=source or c2pa.digital_source_type, c2pa=c2pa,
        generated_here=issued is not None, issued=issued,
    )
