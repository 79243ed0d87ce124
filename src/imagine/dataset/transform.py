"""Stage 4, transform: centre-crop and resize to the training resolution, encode PNG, hash.

The perceptual hash (``imagehash.phash``, 64 bits) is taken of the *transformed* image, so a
query image sent through the same ``transform_image`` lands on the same hash (lookup, guard).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import imagehash
import numpy as np
import pyarrow as pa
from PIL import Image, ImageOps

from imagine.dataset import schema as s


def transform_image(img: Image.Image, resolution: int) -> Image.Image:
    """Centre-crop to a square and resize to ``resolution``² (RGB)."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    return ImageOps.fit(img, (resolution, resolution), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def phash_of(img: Image.Image) -> tuple[str, np.ndarray]:
    """(hex string, 64 0/1 float32 bits) of the perceptual hash."""
    h = imagehash.phash(img)
    bits = np.asarray(h.hash, dtype=np.float32).reshape(-1)
    return str(h), bits


@dataclass
class TransformStage:
    resolution: int = 64

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        included = batch.column("included").to_pylist()
        pixels = batch.column("pixels").to_pylist()
        widths = batch.column("width").to_pylist()
        heights = batch.column("height").to_pylist()
        images, hashes, bits = [], [], []
        for i, ok in enumerate(included):
            if not ok or pixels[i] is None:
                images.append(None)
                hashes.append(None)
                bits.append(None)
                continue
            img = Image.frombytes("RGB", (widths[i], heights[i]), pixels[i])
            out = transform_image(img, self.resolution)
            hex_, b = phash_of(out)
            images.append(png_bytes(out))
            hashes.append(hex_)
            bits.append(b)
        batch = batch.drop_columns(["pixels", "width", "height"])
        batch = s.set_column(batch, "image", pa.array(images, pa.binary()))
        batch = s.set_column(batch, "phash", pa.array(hashes, pa.string()))
        flat = [b if b is not None else None for b in bits]
        arr = pa.array([None if b is None else b.tolist() for b in flat], pa.list_(pa.float32(), s.PHASH_BITS))
        return s.set_column(batch, "phash_bits", arr)
