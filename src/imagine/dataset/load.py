"""Stage 3, load: fetch each still-included post's bytes, validate them, decode to RGB.

Rejections (one bad file never stops the build): ``fetch_failed``, ``not_an_image``,
``decompression_bomb`` (checked from the header, before any pixel is decoded), ``too_small``,
``reserved_by_metadata`` (see ``reserved.py``; checked before decoding, so it also catches
truncated files) and ``truncated``. EXIF orientation is applied.
JPEGs are decoded with DCT scaling (``Image.draft``) straight to about twice the training size,
which is exact enough for a downscale and several times faster.
Output columns: ``sha256`` (of the original bytes), ``pixels`` (raw RGB), ``width``, ``height``,
and the crop-robust fingerprint of the whole upright picture (``fp_hashes``, ``fp_thumb``; see
``neardup.py``), taken before the training crop so a re-post cropped differently still matches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from PIL import Image

from imagine.dataset import schema as s
from imagine.dataset.neardup import fingerprint
from imagine.dataset.reserved import reservation
from imagine.images import MAX_PIXELS, ImageRejected, decode_image, inspect_image


def fetch_bytes(uri: str, base_dir: str | None) -> bytes:
    """Bytes of a local path (relative to ``base_dir``) or any fsspec URL."""
    if "://" not in uri and base_dir and "://" in base_dir:
        uri = f"{base_dir.rstrip('/')}/{uri}"  # relative to a manifest on object storage
    if "://" in uri:
        import fsspec

        with fsspec.open(uri, "rb") as fh:
            return fh.read()
    path = Path(uri)
    if not path.is_absolute() and base_dir:
        path = Path(base_dir) / path
    return path.read_bytes()


class Rejected(Exception):
    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def decode(data: bytes, *, max_pixels: int, min_side: int, draft_side: int | None,
           check_reserved: bool = True) -> Image.Image:
    """Validate and decode one file to an RGB image, or raise ``Rejected`` (checks: ``imagine.images``)."""
    try:
        header = inspect_image(data, max_pixels=max_pixels, max_bytes=len(data))
    except ImageRejected as exc:
        raise Rejected(exc.reason, str(exc)) from exc
    width, height = header.size
    if min(width, height) < min_side:
        raise Rejected(s.TOO_SMALL, f"{width}x{height}")
    mime = Image.MIME.get(header.format or "", "application/octet-stream")
    reserved = reservation(data, mime) if check_reserved else None
    if reserved:
        raise Rejected(s.RESERVED_BY_METADATA, reserved)
    try:
        return decode_image(header, mode="RGB", draft_side=draft_side)
    except ImageRejected as exc:
        raise Rejected(exc.reason, str(exc)) from exc


@dataclass
class LoadStage:
    base_dir: str | None
    resolution: int = 64
    max_pixels: int = MAX_PIXELS
    min_side: int = 32

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        rej = s.Rejections(batch)
        uris = batch.column("image_uri").to_pylist()
        sha, pixels, widths, heights, fp_h, fp_t = [], [], [], [], [], []
        for i, uri in enumerate(uris):
            digest = px = w = h = fh = ft = None
            if rej.included[i]:
                try:
                    data = fetch_bytes(uri, self.base_dir)
                except (OSError, ValueError) as exc:
                    rej.reject(i, s.FETCH_FAILED, f"{type(exc).__name__}: {exc}"[:160])
                    data = None
                if data is not None:
                    digest = hashlib.sha256(data).hexdigest()
                    try:
                        img = decode(data, max_pixels=self.max_pixels, min_side=self.min_side,
                                     draft_side=2 * self.resolution)
                        px, (w, h) = img.tobytes(), img.size
                        fh, ft = fingerprint(img).to_bytes()
                    except Rejected as r:
                        rej.reject(i, r.reason, r.detail)
            sha.append(digest)
            pixels.append(px)
            widths.append(w)
            heights.append(h)
            fp_h.append(fh)
            fp_t.append(ft)
        batch = s.set_column(batch, "sha256", pa.array(sha, pa.string()))
        batch = s.set_column(batch, "pixels", pa.array(pixels, pa.binary()))
        batch = s.set_column(batch, "width", pa.array(widths, pa.int32()))
        batch = s.set_column(batch, "height", pa.array(heights, pa.int32()))
        batch = s.set_column(batch, "fp_hashes", pa.array(fp_h, pa.binary()))
        batch = s.set_column(batch, "fp_thumb", pa.array(fp_t, pa.binary()))
        return rej.apply(batch)
