"""The official `openai` client on a real loopback server: images.edit (with and without a mask, several images),
images.create_variation, streaming with partial images, JPEG/WebP output, and every refused value named."""

from __future__ import annotations

import base64
import io

import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw

from imagine.guard.verify import verify

from .conftest import live_server, new_key, sign_up

# Outside the mask the delivered edit differs from the input only by the invisible watermark (the visible
# label sits inside the edited quadrant here; before stamping the library keeps them exactly, see
# tests/generate/test_generate_edit.py). The watermark is stronger on texture; on this noisy input it was
# measured at mean 5.1, max 38 levels of 255 outside the mask. The bounds leave a little room and stay well
# below what the edit changes inside the mask (mean > 20).
KEPT_MEAN_MAX = 7.0
KEPT_MAX = 48


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _source() -> Image.Image:
    rng = np.random.default_rng(1)
    pixels = np.clip(rng.normal(128, 40, (256, 256, 3)), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    ImageDraw.Draw(image).ellipse((30, 30, 110, 110), fill=(220, 40, 40))
    return image


def _alpha_mask() -> Image.Image:
    """OpenAI's convention: opaque everywhere except the bottom-right quadrant (transparent = edit there)."""
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((128, 128, 255, 255), fill=(0, 0, 0, 0))
    return mask


def _decoded(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


@pytest.fixture()
def served(app_factory):
    app = app_factory()
    with TestClient(app) as c:
        sign_up(c)
        key = new_key(c)
    home = app.state.ctx.settings.data_home
    with live_server(app_factory(home=home)) as url:
        yield openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120), app, url, key


@pytest.mark.slow
def test_edit_with_and_without_mask_variation_and_formats(served):
    client, app, _url, _key = served
    settings = app.state.ctx.settings
    source = _source()
    keep = np.ones((256, 256), bool)
    keep[128:, 128:] = False
    keep[:40, :160] = False  # the visible label's top-left plate (guard.label_corners) is drawn there on purpose

    masked = client.images.edit(image=("photo.png", _png(source), "image/png"),
                                mask=("mask.png", _png(_alpha_mask()), "image/png"), prompt="a green tree", n=2,
                                size="256x256", response_format="b64_json", extra_body={"seed": 5})
    assert len(masked.data) == 2 and masked.output_format == "png" and masked.size == "256x256"
    for item in masked.data:
        out = _decoded(item.b64_json)
        diff = np.abs(np.asarray(out, np.int16) - np.asarray(source, np.int16))
        assert diff[keep].mean() <= KEPT_MEAN_MAX and diff[keep].max() <= KEPT_MAX, (diff[keep].mean(), diff[keep].max())
        assert diff[~keep].mean() > 20  # the masked quadrant really was redrawn
        report = verify(base64.b64decode(item.b64_json), settings=settings)
        assert report.c2pa.state == "valid" and report.generated_here
        assert report.c2pa.actions == ("c2pa.opened", "c2pa.edited")
        assert report.c2pa.ingredients[0].title == "photo.png"
        assert "compositeWithTrainedAlgorithmicMedia" in report.digital_source_type

    # Without a mask (SDEdit over the whole picture), two images at once, WebP out.
    second = source.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    plain = client.images.edit(image=[("a.png", _png(source), "image/png"), ("b.png", _png(second), "image/png")],
                               prompt="a blue car", n=1, output_format="webp", output_compression=90)
    assert len(plain.data) == 2 and plain.output_format == "webp"
    for item, original in zip(plain.data, (source, second)):
        out = _decoded(item.b64_json)
        assert out.format == "WEBP"
        diff = np.abs(np.asarray(out.convert("RGB"), np.int16) - np.asarray(original, np.int16))
        assert diff.mean() > 20  # changed everywhere
        assert verify(base64.b64decode(item.b64_json), settings=settings).c2pa.state == "valid"

    variation = client.images.create_variation(image=("made.png", _png(source), "image/png"), n=2,
                                               response_format="b64_json", size="256x256")
    assert len(variation.data) == 2
    first, other = (np.asarray(_decoded(d.b64_json), np.int16) for d in variation.data)
    assert np.abs(first - other).mean() > 1  # two different seeds

    jpeg = client.images.generate(prompt="a red circle", n=1, output_format="jpeg", output_compression=85,
                                  quality="low")
    image = _decoded(jpeg.data[0].b64_json)
    assert image.format == "JPEG" and jpeg.quality == "low"
    report = verify(base64.b64decode(jpeg.data[0].b64_json), settings=settings)
    assert report.c2pa.state == "valid" and report.watermark.found and report.generated_here
    with app.state.ctx.sessions() as db:
        from sqlalchemy import select

        from imagine.db.models import Job

        steps = {row.params.get("openai"): row.params["steps"] for row in db.scalars(select(Job))}
    assert steps["generations"] == 10  # quality=low -> 10 steps (docs/api.md)


@pytest.mark.slow
def test_streaming_generation_and_edit_send_partial_images(served):
    client, *_ = served
    stream = client.images.generate(prompt="a yellow star", n=1, stream=True, partial_images=2,
                                    extra_body={"seed": 3})
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[-1] == "image_generation.completed"
    partial = [e for e in events if e.type == "image_generation.partial_image"]
    assert 1 <= len(partial) <= 2 and [e.partial_image_index for e in partial] == list(range(len(partial)))
    assert _decoded(events[-1].b64_json).size == (256, 256)
    # a partial image leaves the server like a final one: checked, labelled, watermarked, signed
    settings = served[1].state.ctx.settings
    assert _decoded(partial[0].b64_json).size == (256, 256)
    report = verify(base64.b64decode(partial[0].b64_json), settings=settings)
    assert report.watermark.found and report.generated_here and report.c2pa.state == "valid"

    edit_events = list(client.images.edit(image=("p.png", _png(_source()), "image/png"), prompt="a house",
                                          stream=True, partial_images=1, output_format="jpeg"))
    assert edit_events[-1].type == "image_edit.completed" and edit_events[-1].output_format == "jpeg"
    assert _decoded(edit_events[-1].b64_json).format == "JPEG"
    partial_edit = [e for e in edit_events if e.type == "image_edit.partial_image"]
    assert all(_decoded(e.b64_json).format == "JPEG" for e in partial_edit)


REFUSED = [
    ("generate", {"quality": "hd"}, "quality"),
    ("generate", {"style": "vivid"}, "style"),
    ("generate", {"background": "transparent"}, "background"),
    ("generate", {"output_format": "gif"}, "output_format"),
    ("generate", {"model": "dall-e-3"}, "model"),
    ("generate", {"moderation": "low"}, "moderation"),
    ("generate", {"extra_body": {"steps": 50}}, "steps"),
    ("generate", {"output_compression": 50}, "output_compression"),  # png has no compression setting
    ("generate", {"response_format": "url", "output_format": "jpeg"}, "response_format"),
    ("generate", {"size": "1024x1024"}, "size"),
    ("generate", {"partial_images": 2}, "partial_images"),  # without stream
    ("edit", {"input_fidelity": "high"}, "input_fidelity"),
    ("edit", {"extra_body": {"guidance": 3}}, "guidance"),
    ("edit", {"extra_body": {"strength": 1.5}}, "strength"),
]


@pytest.mark.slow
def test_unsupported_values_are_refused_by_name(served):
    client, *_ = served
    image = ("p.png", _png(_source()), "image/png")
    for call, kwargs, param in REFUSED:
        with pytest.raises(openai.BadRequestError) as refused:
            if call == "generate":
                client.images.generate(prompt="a cat", **kwargs)
            else:
                client.images.edit(image=image, prompt="a cat", **kwargs)
        assert refused.value.body["param"] == param, (kwargs, refused.value.body)
        assert param in refused.value.body["message"]
    # A mask without transparency, and a mask of another size, are refused with the reason.
    opaque = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    for mask, words in ((opaque, "nothing to edit"), (Image.new("RGBA", (64, 64)), "same size"),
                        (Image.new("RGB", (256, 256)), "alpha channel")):
        with pytest.raises(openai.BadRequestError) as refused:
            client.images.edit(image=image, mask=("m.png", _png(mask), "image/png"), prompt="a cat")
        assert refused.value.body["param"] == "mask" and words in refused.value.body["message"]
    with pytest.raises(openai.APIStatusError) as refused:  # through the safe opener: 415, not an image
        client.images.edit(image=("x.png", b"not an image", "image/png"), prompt="a cat")
    assert refused.value.status_code == 415 and refused.value.body["param"] == "image"
    with pytest.raises(openai.BadRequestError) as refused:
        client.images.edit(image=image, prompt="a photo of Taylor Swift")
    assert refused.value.code == "content_policy_violation"
