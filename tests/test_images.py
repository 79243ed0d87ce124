"""imagine.images: the one safe way to open an image that came from outside."""

from __future__ import annotations

import io

import pytest
from image_helpers import jpeg_claiming, png_1bit, png_claiming
from PIL import Image

from imagine import images
from imagine.dataset import schema
from imagine.images import ImageRejected, inspect_image, open_image


def _encode(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


@pytest.mark.parametrize("data", [png_1bit(12000), png_claiming(30000, 30000), jpeg_claiming(65000, 65000)])
def test_too_many_pixels_is_refused_from_the_header(data):
    with pytest.raises(ImageRejected) as info:
        inspect_image(data)
    assert info.value.reason == images.DECOMPRESSION_BOMB


def test_the_pixel_cap_is_a_parameter():
    data = _encode(Image.new("RGB", (300, 200)), "PNG")
    assert open_image(data, max_pixels=60_000).size == (300, 200)
    with pytest.raises(ImageRejected, match="300x200") as info:
        open_image(data, max_pixels=59_999)
    assert info.value.reason == "decompression_bomb"


def test_byte_cap_format_allow_list_and_broken_files(tmp_path):
    png = _encode(Image.effect_noise((128, 128), 64).convert("RGB"), "PNG")
    with pytest.raises(ImageRejected) as info:
        open_image(png, max_bytes=len(png) - 1)
    assert info.value.reason == images.TOO_LARGE
    path = tmp_path / "x.png"
    path.write_bytes(png)
    assert open_image(path, max_bytes=len(png)).size == (128, 128)
    for fmt in ("GIF", "TIFF", "BMP"):
        with pytest.raises(ImageRejected) as info:
            open_image(_encode(Image.new("RGB", (64, 64)), fmt))
        assert info.value.reason == images.NOT_AN_IMAGE
    assert open_image(_encode(Image.new("RGB", (64, 64)), "GIF"), formats={"GIF"}).format == "GIF"
    for junk in (b"", b"not an image at all"):
        with pytest.raises(ImageRejected) as info:
            open_image(junk)
        assert info.value.reason == images.NOT_AN_IMAGE
    with pytest.raises(ImageRejected) as info:
        open_image(png[:1500])
    assert info.value.reason == images.TRUNCATED


def test_orientation_mode_and_format_are_kept_as_asked():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    jpeg = _encode(Image.new("RGB", (80, 40), (10, 200, 10)), "JPEG", exif=exif)
    upright = open_image(jpeg)
    assert upright.size == (40, 80) and upright.mode == "RGB" and upright.format == "JPEG"
    assert open_image(jpeg, transpose=False).size == (80, 40)
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    flat = open_image(_encode(rgba, "WEBP", lossless=True))
    assert flat.getpixel((5, 5)) == (255, 255, 255)  # transparency flattened onto white
    assert open_image(_encode(rgba, "PNG"), mode=None).mode == "RGBA"


def test_reasons_are_the_datasets_rejection_reasons():
    for reason in (images.NOT_AN_IMAGE, images.TRUNCATED, images.DECOMPRESSION_BOMB):
        assert reason in schema.ALL_REASONS


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_corrupted_files_give_a_typed_refusal_or_an_image(fmt):
    """Seeded byte flips and cuts of real files (EXIF included): never any other exception."""
    import random

    exif = Image.Exif()
    exif[0x0112] = 3
    good = _encode(Image.effect_noise((64, 48), 40).convert("RGB"), fmt, exif=exif)
    rng = random.Random(fmt)
    for _ in range(150):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        try:
            img = open_image(bytes(data))
        except ImageRejected as exc:
            assert exc.reason in images.REASONS
        else:
            assert img.mode == "RGB"
