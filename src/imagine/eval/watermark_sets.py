"""Pictures and edits for the watermark evaluation: the attack table and the never-stamped clean set.

Attacks are what people do before re-posting a picture (re-encode, resize, crop off the label,
screenshot with a border or on a larger canvas, turn, mirror, recolour). Clean images cover every
kind the service meets: photographs (scikit-image's and scikit-learn's sample photos, random crops
of them, shipped offline), drawn shapes, flat colours, gradients, noise, JPEG re-encodes, and
rendered scenes at the model's 32 px upscaled to 256 px (what the shipped model delivers).
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from imagine.guard.provenance import to_delivered_size

Attack = Callable[[Image.Image, random.Random], Image.Image]


def reencode(img: Image.Image, fmt: str, **kw) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _scale(img: Image.Image, f: float) -> Image.Image:
    return img.resize((max(1, round(img.width * f)), max(1, round(img.height * f))), Image.Resampling.BICUBIC)


def _centre_crop(img: Image.Image, area: float) -> Image.Image:
    w, h = img.size
    k = area**0.5
    cw, ch = round(w * k), round(h * k)
    x, y = (w - cw) // 2, (h - ch) // 2
    return img.crop((x, y, x + cw, y + ch))


def _paste(img: Image.Image, rng: random.Random) -> Image.Image:
    """A "screenshot": the picture at an offset on a larger light canvas, saved as PNG."""
    w, h = img.size
    big_w, big_h = w + rng.randint(w // 4, w), h + rng.randint(h // 4, h)
    canvas = Image.new("RGB", (big_w, big_h), (rng.randint(225, 255),) * 3)
    canvas.paste(img, (rng.randint(1, big_w - w - 1), rng.randint(1, big_h - h - 1)))
    return reencode(canvas, "PNG")


def _hue(img: Image.Image, degrees: float) -> Image.Image:
    hsv = np.asarray(img.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + round(degrees / 360 * 256)) % 256
    return Image.fromarray(hsv, mode="HSV").convert("RGB")


def _noise(img: Image.Image, rng: random.Random, sigma: float) -> Image.Image:
    x = np.asarray(img, np.float32) + np.random.default_rng(rng.getrandbits(32)).normal(0, sigma, (img.height, img.width, 3))
    return Image.fromarray(np.clip(np.rint(x), 0, 255).astype(np.uint8))


def _rotate(img: Image.Image, degrees: float) -> Image.Image:
    return img.rotate(degrees, resample=Image.Resampling.BICUBIC)


# Attack registry: name -> (image, rng) -> attacked image. Rotations keep the size (black corners).
ATTACKS: dict[str, Attack] = {
    "none": lambda im, r: im,
    "jpeg90": lambda im, r: reencode(im, "JPEG", quality=90),
    "jpeg75": lambda im, r: reencode(im, "JPEG", quality=75),
    "jpeg50": lambda im, r: reencode(im, "JPEG", quality=50),
    "webp80": lambda im, r: reencode(im, "WEBP", quality=80),
    "resize0.5": lambda im, r: _scale(im, 0.5),
    "resize0.75": lambda im, r: _scale(im, 0.75),
    "resize0.5-back": lambda im, r: _scale(im, 0.5).resize(im.size, Image.Resampling.BICUBIC),
    "resize0.75-back": lambda im, r: _scale(im, 0.75).resize(im.size, Image.Resampling.BICUBIC),
    "upscale2": lambda im, r: _scale(im, 2.0),
    "resize0.5+jpeg75": lambda im, r: reencode(_scale(im, 0.5), "JPEG", quality=75),
    "resize0.5+jpeg50": lambda im, r: reencode(_scale(im, 0.5), "JPEG", quality=50),
    "blur1": lambda im, r: im.filter(ImageFilter.GaussianBlur(1)),
    "noise5": lambda im, r: _noise(im, r, 5.0),
    "bright0.7": lambda im, r: ImageEnhance.Brightness(im).enhance(0.7),
    "bright1.3": lambda im, r: ImageEnhance.Brightness(im).enhance(1.3),
    "contrast0.7": lambda im, r: ImageEnhance.Contrast(im).enhance(0.7),
    "hue90": lambda im, r: _hue(im, 90),
    "gray": lambda im, r: ImageOps.grayscale(im).convert("RGB"),
    "crop90": lambda im, r: _centre_crop(im, 0.9),
    "crop75": lambda im, r: _centre_crop(im, 0.75),
    "crop50": lambda im, r: _centre_crop(im, 0.5),
    "crop-bottom22": lambda im, r: im.crop((0, 0, im.width, im.height - 22)),
    "crop-right22": lambda im, r: im.crop((0, 0, im.width - 22, im.height)),
    "corner-square": lambda im, r: im.crop((0, 0, round(min(im.size) * 0.75), round(min(im.size) * 0.75))),
    "border4": lambda im, r: ImageOps.expand(im, 4, fill="white"),
    "paste": _paste,
    "rotate3": lambda im, r: _rotate(im, r.choice((-3.0, 3.0))),
    "rotate10": lambda im, r: _rotate(im, r.choice((-10.0, 10.0))),
    "flip": lambda im, r: ImageOps.mirror(im),
}
# Must read the exact payload in >= 95% of pictures (the rest of the table was at 1.00 already).
HARD_ATTACKS = ("crop-bottom22", "crop-right22", "crop50", "border4", "paste", "rotate10", "flip", "resize0.5+jpeg50")


def scene_images(n: int, seed: int, *, native: int | None = 32, size: int = 256) -> list[Image.Image]:
    """Rendered demo scenes: at ``native`` px upscaled to ``size`` (model-like), or directly at ``size``."""
    from imagine.platform.render import render_scene
    from imagine.platform.scenes import sample_scene

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        scene = sample_scene(rng, held_out=None)
        img = render_scene(scene, native or size)
        out.append(img.resize((size, size), Image.Resampling.LANCZOS) if native else img)
    return out


def texture_images(n: int, seed: int, size: int = 256) -> list[Image.Image]:
    """1/f colour noise (std 45 levels): far busier than photos, a hard host for a watermark."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        out.append(_one_over_f(rng, size, 45.0))
    return out


def _one_over_f(rng: np.random.Generator, size: int, std: float) -> Image.Image:
    f = np.fft.fftfreq(size)
    radius = np.hypot(f[:, None], f[None, :])
    radius[0, 0] = 1.0
    x = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(size=(3, size, size))) / radius, axes=(-2, -1)))
    x = (x - x.mean(axis=(1, 2), keepdims=True)) / x.std(axis=(1, 2), keepdims=True) * std + rng.uniform(60, 190)
    return Image.fromarray(np.clip(np.moveaxis(x, 0, -1), 0, 255).astype(np.uint8))


PHOTO_LOADERS = ("astronaut", "brick", "camera", "cat", "cell", "chelsea", "clock", "coffee", "coins", "colorwheel",
                 "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina",
                 "rocket", "text", "microaneurysms", "shepp_logan_phantom")


@lru_cache(maxsize=1)
def sample_photos() -> tuple[Image.Image, ...]:
    """Every sample photograph shipped offline with scikit-image and scikit-learn (RGB)."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    out = []
    for name in PHOTO_LOADERS:
        arr = getattr(skimage.data, name)()
        if arr.dtype != np.uint8:
            arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        out.append(Image.fromarray(arr).convert("RGB"))
    out.extend(Image.fromarray(a).convert("RGB") for a in load_sample_images().images)
    return tuple(out)


def photo_crops(n: int, seed: int, size: int = 256) -> list[Image.Image]:
    """Random crops (30-100% of the shorter side, any position) of the sample photos, at ``size`` px."""
    rng = random.Random(seed)
    photos = sample_photos()
    out = []
    for _ in range(n):
        p = rng.choice(photos)
        side = max(16, round(min(p.size) * rng.uniform(0.3, 1.0)))
        x, y = rng.randint(0, p.width - side), rng.randint(0, p.height - side)
        out.append(p.crop((x, y, x + side, y + side)).resize((size, size), Image.Resampling.LANCZOS))
    return out


def _drawn(rng: random.Random, size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), tuple(rng.randint(0, 255) for _ in range(3)))
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(1, 12)):
        box = sorted(rng.sample(range(size), 2)), sorted(rng.sample(range(size), 2))
        xy = (box[0][0], box[1][0], box[0][1], box[1][1])
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        shape = rng.choice(("rect", "ellipse", "line", "polygon"))
        if shape == "rect":
            d.rectangle(xy, fill=colour)
        elif shape == "ellipse":
            d.ellipse(xy, fill=colour)
        elif shape == "line":
            d.line(xy, fill=colour, width=rng.randint(1, 12))
        else:
            d.polygon([(rng.randrange(size), rng.randrange(size)) for _ in range(rng.randint(3, 7))], fill=colour)
    return img


def _gradient(rng: random.Random, size: int) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size] / size
    a, b = rng.uniform(-1, 1), rng.uniform(-1, 1)
    t = (a * xx + b * yy) if rng.random() < 0.6 else np.hypot(xx - rng.random(), yy - rng.random())
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    c0, c1 = np.array([rng.randint(0, 255) for _ in range(3)]), np.array([rng.randint(0, 255) for _ in range(3)])
    return Image.fromarray(np.rint(c0 + (c1 - c0) * t[..., None]).astype(np.uint8))


def _flat(rng: random.Random, size: int) -> Image.Image:
    return Image.new("RGB", (size, size), tuple(rng.randint(0, 255) for _ in range(3)))


def _white_noise(rng: random.Random, size: int) -> Image.Image:
    g = np.random.default_rng(rng.getrandbits(32))
    return Image.fromarray(np.clip(g.normal(rng.uniform(60, 190), rng.uniform(2, 60), (size, size, 3)), 0, 255).astype(np.uint8))


CLEAN_KINDS: dict[str, Callable[[random.Random, int], Image.Image]] = {
    "photo": lambda r, s: photo_crops(1, r.getrandbits(32), s)[0],
    "scene32": lambda r, s: scene_images(1, r.getrandbits(32), native=32, size=s)[0],
    "scene": lambda r, s: scene_images(1, r.getrandbits(32), native=None, size=s)[0],
    "drawn": _drawn,
    "gradient": _gradient,
    "flat": _flat,
    "noise": _white_noise,
    "texture": lambda r, s: _one_over_f(np.random.default_rng(r.getrandbits(32)), s, r.uniform(5, 60)),
}
CLEAN_WEIGHTS = {"photo": 4, "scene32": 3, "scene": 2, "drawn": 3, "gradient": 1, "flat": 1, "noise": 1, "texture": 1}


def clean_images(n: int, seed: int, *, label: Callable[[Image.Image], Image.Image] | None = None) -> Iterator[tuple[str, Image.Image]]:
    """``n`` never-stamped (kind, image) pairs: every kind, sizes 256 px and 128-640 px, a third
    re-encoded as JPEG, half with the visible label when ``label`` is given (as a crop or re-post might be)."""
    rng = random.Random(seed)
    kinds = [k for k, w in CLEAN_WEIGHTS.items() for _ in range(w)]
    for _ in range(n):
        kind = rng.choice(kinds)
        img = CLEAN_KINDS[kind](rng, 256)
        if rng.random() < 0.25:
            img = img.resize((rng.randint(128, 640), rng.randint(128, 640)), Image.Resampling.BICUBIC)
        if label is not None and rng.random() < 0.5 and img.width >= 256:
            img = label(img)
        if rng.random() < 0.33:
            img = reencode(img, "JPEG", quality=rng.randint(40, 95))
            kind += "+jpeg"
        yield kind, img


def delivered(img: Image.Image, size: int = 256) -> Image.Image:
    return to_delivered_size(img, size)
