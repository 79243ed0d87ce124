"""Open image files that came from outside: one home for the byte cap, the format allow-list and the pixel cap.

Every upload (the "was this photo used?" form and API), the dataset loader and the verifier open files
through here, so a hostile file is refused in one way everywhere:

1. the byte cap (``max_bytes``) before anything is parsed;
2. only the allow-listed formats' parsers are tried (``formats``; PNG, JPEG, WebP by default): libraries
   for rarer formats are where decoder bugs live, and nothing here needs them;
3. width x height is read from the header and compared with ``max_pixels`` *before* any pixel is
   decoded. A 17 KB 1-bit PNG can claim 12000x12000 pixels (432 MB as RGB); Pillow's own guard only
   warns below 2 x ``Image.MAX_IMAGE_PIXELS`` (179 M pixels) and raises above it, mid-request;
4. decoding (with ``ImageOps.exif_transpose`` and an optional mode conversion) turns truncated or corrupt
   data into the same typed error.

Every refusal is an ``ImageRejected`` whose ``reason`` is one of ``REASONS``; the reasons are stable
(the dataset records them as rejection reasons, the service maps them to HTTP errors).

Usage::

    img = open_image(data)                        # upright RGB, or ImageRejected
    img = open_image(path, mode=None, transpose=False)   # as stored (the verifier)
    header = inspect_image(data)                  # checked, not decoded: size, format, info
    img = decode_image(header, draft_side=128)    # then decode it
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Collection
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS: frozenset[str] = frozenset({"PNG", "JPEG", "WEBP"})
# Pillow names some files after a variant of an allowed format: phone JPEGs with a second picture are "MPO".
_VARIANTS = {"MPO": "JPEG"}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo decodes to 120 MB of RGB; larger headers are refused unread
MAX_BYTES = 20 * 1024 * 1024

TOO_LARGE = "too_large"  # more bytes than max_bytes
DECOMPRESSION_BOMB = "decompression_bomb"  # the header claims more than max_pixels
NOT_AN_IMAGE = "not_an_image"  # empty, not an image, or not one of the allowed formats
TRUNCATED = "truncated"  # the header parsed but the pixels could not be decoded
REASONS = (TOO_LARGE, DECOMPRESSION_BOMB, NOT_AN_IMAGE, TRUNCATED)


class ImageRejected(ValueError):
    """A file was refused; ``reason`` is one of ``REASONS``, the message says why in words."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown image rejection reason {reason!r}")
        super().__init__(message)
        self.reason = reason


def _format_names(formats: Collection[str]) -> str:
    names = sorted({"WEBP": "WebP"}.get(f, f) for f in formats)
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def read_capped(source: bytes | str | os.PathLike, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``source`` (bytes or a path), refusing more than ``max_bytes`` without reading them all."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        with Path(source).open("rb") as fh:
            data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(TOO_LARGE, f"The image is larger than {max_bytes} bytes.")
    return data


def inspect_image(
    source: bytes | str | os.PathLike,
    *,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
    formats: Collection[str] = FORMATS,
) -> Image.Image:
    """Parse the header only and apply every check that needs no pixels; the image returned is not decoded.

    Its ``size``, ``format``, ``mode`` and ``info`` are set; ``decode_image`` decodes it.
    """
    data = read_capped(source, max_bytes)
    if not data:
        raise ImageRejected(NOT_AN_IMAGE, "The file is empty.")
    allowed = {f.upper() for f in formats}
    try:
        with warnings.catch_warnings():
            # Our own cap below is the check; Pillow's warning (or its error far above the cap) is not needed.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=sorted(allowed))
    except Image.DecompressionBombError as exc:
        raise ImageRejected(DECOMPRESSION_BOMB,
                            f"The image header claims too many pixels; at most {max_pixels:,} are accepted.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(NOT_AN_IMAGE, f"The file is not a readable image ({_format_names(allowed)} are accepted).") from exc
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ImageRejected(DECOMPRESSION_BOMB,
                            f"The image is {width}x{height} pixels; at most {max_pixels:,} pixels are accepted.")
    if _VARIANTS.get(img.format or "", img.format) not in allowed:
        img.close()
        raise ImageRejected(NOT_AN_IMAGE, f"The file is not a readable image ({_format_names(allowed)} are accepted).")
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB, with any transparency flattened onto white (what a viewer shows on a white page)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return img.convert("RGB")


def decode_image(
    img: Image.Image,
    *,
    mode: str | None = "RGB",
    transpose: bool = True,
    draft_side: int | None = None,
) -> Image.Image:
    """Decode an image from ``inspect_image``: EXIF orientation applied (``transpose``), converted to ``mode``.

    ``mode="RGB"`` flattens transparency onto white; ``mode=None`` keeps the stored mode. ``draft_side``
    lets a JPEG decode straight to about that size (DCT scaling; exact enough before a downscale).
    The result keeps the original ``format``.
    """
    fmt = img.format
    if draft_side and fmt == "JPEG":
        img.draft("RGB", (draft_side, draft_side))
    try:
        img.load()
        out = ImageOps.exif_transpose(img) if transpose else img
        if mode == "RGB":
            out = _to_rgb(out)
        elif mode is not None and out.mode != mode:
            out = out.convert(mode)
    except MemoryError:
        raise
    except Exception as exc:  # untrusted bytes: Pillow's decoders and EXIF parser raise many types; all mean "corrupt"
        raise ImageRejected(TRUNCATED, f"The image data is truncated or corrupt ({str(exc)[:120]}).") from exc
    out.format = fmt
    return out


def open_image(
    source: bytes | str | os.PathLike,
    *,
    max_pixels: int = MAX_PIXELS,
    max_bytes: int = MAX_BYTES,
    formats: Collection[str] = FORMATS,
    mode: str | None = "RGB",
    transpose: bool = True,
) -> Image.Image:
    """Open an untrusted image (bytes or a path) safely, decoded; raise ``ImageRejected`` on anything wrong.

    The checks, in order: ``max_bytes``; the ``formats`` allow-list; ``max_pixels`` from the header
    (before decoding); then decoding, EXIF orientation (``transpose``) and conversion to ``mode``
    (``None`` keeps the stored mode). The result's ``format`` is the file's format.
    """
    header = inspect_image(source, max_pixels=max_pixels, max_bytes=max_bytes, formats=formats)
    return decode_image(header, mode=mode, transpose=transpose)
