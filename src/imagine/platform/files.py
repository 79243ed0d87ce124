"""Turning a planned post into image file bytes: render, crop/resize, rotate, convert, encode, damage.

A ``FilePlan`` fully decides the bytes, so an exact duplicate is simply the same plan encoded again, and
worker processes can encode plans in any order with byte-identical results.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, PngImagePlugin

from imagine.platform.metadata import xmp_packet
from imagine.platform.render import render_scene
from imagine.platform.scenes import Scene

EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
# EXIF orientation -> the transpose that *undoes* what a viewer applies, so viewing gives the upright scene.
ORIENTATION_INVERSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}
NOT_AN_IMAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>\n"


@dataclass(frozen=True)
class FilePlan:
    """Everything that decides one file's bytes."""

    scene: Scene  # the scene rendered at `size` (before any crop)
    size: tuple[int, int]
    fmt: str  # jpeg | png | webp
    quality: int = 90
    crop: tuple[int, int, int, int] | None = None  # pixel box of the render to keep
    resize: tuple[int, int] | None = None  # final size after the crop
    mode: str = "RGB"  # RGB | L | CMYK | RGBA
    orientation: int | None = None  # EXIF orientation tag; pixels are stored accordingly rotated
    dmi_prohibited: bool = False
    cawg_not_allowed: bool = False
    corruption: str | None = None  # truncated | zero_byte | not_an_image

    def __post_init__(self) -> None:
        if self.fmt not in EXTENSIONS:
            raise ValueError(f"unknown image format {self.fmt!r}")
        if self.mode == "CMYK" and self.fmt != "jpeg":
            raise ValueError("CMYK is stored as JPEG only")
        if self.mode == "RGBA" and self.fmt == "jpeg":
            raise ValueError("JPEG has no alpha channel")

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.fmt]


def upright_pixels(plan: FilePlan) -> Image.Image:
    """The picture as a viewer shows it (after EXIF orientation), RGB, before mode conversion."""
    image = render_scene(plan.scene, *plan.size)
    if plan.crop is not None:
        image = image.crop(plan.crop)
    if plan.resize is not None:
        image = image.resize(plan.resize, Image.Resampling.LANCZOS)
    return image


def _with_alpha(image: Image.Image) -> Image.Image:
    """RGBA with transparent rounded corners, like a sticker export."""
    mask = Image.new("L", image.size, 0)
    radius = max(4, min(image.size) // 6)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=radius, fill=255)
    rgba = image.convert("RGBA")
    rgba.putalpha(mask)
    return rgba


def encode(plan: FilePlan) -> bytes:
    """The file's bytes, deterministic for the plan."""
    if plan.corruption == "zero_byte":
        return b""
    if plan.corruption == "not_an_image":
        return NOT_AN_IMAGE
    image = upright_pixels(plan)
    if plan.orientation is not None:
        image = image.transpose(ORIENTATION_INVERSE[plan.orientation])
    image = _with_alpha(image) if plan.mode == "RGBA" else image.convert(plan.mode)

    options: dict = {}
    if plan.orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = plan.orientation
        options["exif"] = exif
    xmp = xmp_packet(dmi_prohibited=plan.dmi_prohibited, cawg_not_allowed=plan.cawg_not_allowed) if (
        plan.dmi_prohibited or plan.cawg_not_allowed
    ) else None
    buffer = io.BytesIO()
    if plan.fmt == "png":
        if xmp is not None:
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
            options["pnginfo"] = info
        image.save(buffer, "PNG", compress_level=6, **options)
    elif plan.fmt == "jpeg":
        if xmp is not None:
            options["xmp"] = xmp
        image.save(buffer, "JPEG", quality=plan.quality, **options)
    else:
        if xmp is not None:
            options["xmp"] = xmp
        image.save(buffer, "WEBP", quality=plan.quality, method=4, **options)
    data = buffer.getvalue()
    if plan.corruption == "truncated":
        return data[: max(64, len(data) * 3 // 5)]
    if plan.corruption is not None:
        raise ValueError(f"unknown corruption {plan.corruption!r}")
    return data


def write_plan(job: tuple[Path, FilePlan]) -> int:
    """Encode one plan to its path (worker entry point); returns the number of bytes written."""
    path, plan = job
    data = encode(plan)
    path.write_bytes(data)
    return len(data)
