"""Edits in the Generator loop: image-to-image, masked edits (kept pixels stay), inpainting UNets, variations."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from imagine.generate.core import GenerationRequest, Generator
from imagine.generate.edit import is_inpainting
from imagine.generate.samplers import SAMPLERS


def pixels(image):
    return np.asarray(image, dtype=np.int16)


def source(size: int = 64) -> Image.Image:
    """A blue field with a red disc in the top-left quarter and some texture, so every pixel is distinct."""
    rng = np.random.default_rng(0)
    base = np.zeros((size, size, 3), np.uint8) + np.array([30, 120, 200], np.uint8)
    base = (base + rng.integers(0, 20, base.shape)).astype(np.uint8)
    image = Image.fromarray(base, "RGB")
    ImageDraw.Draw(image).ellipse((size // 8, size // 8, size // 2, size // 2), fill=(220, 30, 30))
    return image


def lower_right(size: int = 64) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rectangle((size // 2, size // 2, size - 1, size - 1), fill=255)
    return mask


@pytest.fixture(params=["sd", "imagine"])
def generator(request, sd_generator, imagine_generator):
    return {"sd": sd_generator, "imagine": imagine_generator}[request.param]


@pytest.fixture(scope="module")
def default_generator():
    return Generator.load(device="cpu")  # the shipped default (3 MB): edits that mean something


@pytest.fixture(scope="module")
def inpaint_generator(tmp_path_factory):
    from imagine.model.tiny_sd import save_tiny_sd

    return Generator.load(save_tiny_sd(tmp_path_factory.mktemp("inpaint") / "m", inpainting=True), device="cpu")


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_masked_edit_keeps_every_pixel_outside_the_mask(imagine_generator, sampler):
    src, mask = source(), lower_right()
    [result] = imagine_generator.generate([GenerationRequest("a green tree", n=2, seed=4, steps=4, sampler=sampler,
                                                             init_image=src, mask=mask)])
    keep = np.asarray(mask) < 128
    for image in result.images:
        assert image.size == src.size  # pasted back at the input's size, not the model's 32 px
        diff = np.abs(pixels(image) - pixels(src))
        assert diff[keep].max() == 0  # the library's tolerance outside the mask: exact
        assert diff[~keep].mean() > 10  # and the masked area really was redrawn


def test_masked_edit_on_sd_and_on_an_inpainting_unet(sd_generator, inpaint_generator):
    assert not is_inpainting(sd_generator.pipe) and is_inpainting(inpaint_generator.pipe)
    assert inpaint_generator.pipe.unet.config.in_channels == 9
    src, mask = source(), lower_right()
    keep = np.asarray(mask) < 128
    for gen in (sd_generator, inpaint_generator):
        [result] = gen.generate([GenerationRequest("a red car", n=1, seed=1, steps=3, init_image=src, mask=mask)])
        diff = np.abs(pixels(result.images[0]) - pixels(src))
        assert diff[keep].max() == 0 and diff[~keep].mean() > 5
    # The inpainting UNet also generates from text (mask everywhere, grey input), so one folder serves both.
    [plain] = inpaint_generator.generate([GenerationRequest("a red car", n=1, seed=1, steps=3)])
    assert plain.images[0].size == inpaint_generator.image_size


def test_img2img_strength_controls_how_far_the_output_moves(default_generator):
    src = source(32)
    far = {}
    for strength in (0.2, 0.6, 1.0):
        [r] = default_generator.generate([GenerationRequest("a yellow star on the beach", n=2, seed=9, steps=20,
                                                            init_image=src, strength=strength)])
        far[strength] = np.mean([np.abs(pixels(im) - pixels(src)).mean() for im in r.images])
    assert far[0.2] < far[0.6] < far[1.0], far
    assert far[0.2] < far[1.0] / 2  # a light touch keeps much of the picture (measured: 31 vs 107 levels)


def test_edits_are_seeded_and_batch_invariant(generator):
    src = source()
    edit = GenerationRequest("a green tree", n=2, seed=21, steps=4, init_image=src, strength=0.5)
    first, again = generator.generate([edit])[0], generator.generate([edit])[0]
    assert first.seeds == [21, 22]
    for a, b in zip(first.images, again.images):
        assert np.array_equal(pixels(a), pixels(b))
    other = generator.generate([GenerationRequest("a green tree", n=1, seed=77, steps=4, init_image=src,
                                                  strength=0.5)])[0]
    assert not np.array_equal(pixels(first.images[0]), pixels(other.images[0]))
    # Batched with a generation and another edit of the same first step, the pixels stay (CPU rounding aside).
    text = GenerationRequest("a blue car", n=1, seed=3, steps=4)
    same_start = GenerationRequest("a house", n=1, seed=5, steps=4, init_image=source(48), strength=0.5)
    steps_seen = []
    batched = generator.generate([text, edit, same_start], on_step=lambda s, t, p: steps_seen.append((s, t)))
    assert batched[1].timings["batch_images"] == 3.0  # the two edits shared one batch; the generation ran alone
    assert steps_seen[-1] == (4 + 2, 4 + 2)  # an edit at strength 0.5 runs half of its steps
    for a, b in zip(first.images, batched[1].images):
        assert np.abs(pixels(a) - pixels(b)).max() <= 2


def test_variation_without_prompt(generator):
    src = source()
    [r] = generator.generate([GenerationRequest("", n=2, seed=0, steps=4, init_image=src, strength=0.6)])
    assert len(r.images) == 2 and not np.array_equal(pixels(r.images[0]), pixels(r.images[1]))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mask": Image.new("L", (8, 8), 255)}, "need an input image"),
    ({"strength": 0.5}, "need an input image"),
    ({"init_image": Image.new("RGB", (8, 8)), "strength": 0.0}, "strength must be"),
    ({"init_image": Image.new("RGB", (8, 8)), "strength": 1.5}, "strength must be"),
    ({"init_image": Image.new("RGBA", (8, 8))}, "RGB image"),
    ({"init_image": Image.new("RGB", (8, 8)), "mask": Image.new("L", (4, 4), 255)}, "must match"),
    ({"init_image": Image.new("RGB", (8, 8)), "mask": Image.new("1", (8, 8), 1)}, "mode 'L'"),
    ({"init_image": Image.new("RGB", (8, 8)), "mask": Image.new("L", (8, 8), 0)}, "nothing to edit"),
])
def test_edit_request_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerationRequest("a cat", n=1, **kwargs)
    with pytest.raises(ValueError, match="non-empty"):
        GenerationRequest("", n=1)  # an empty prompt is for variations only
