"""ImaginePipeline: save/load round trip through plain DiffusionPipeline, seeds, inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _gens(seeds):
    return [torch.Generator().manual_seed(s) for s in seeds]


def test_round_trip_through_plain_diffusion_pipeline(tiny_pipe, tmp_path):
    from diffusers import DiffusionPipeline

    from imagine.model.pipeline import ImaginePipeline

    tiny_pipe.save_pretrained(tmp_path / "m")
    files = {p.relative_to(tmp_path / "m").as_posix() for p in (tmp_path / "m").rglob("*") if p.is_file()}
    assert "unet/diffusion_pytorch_model.safetensors" in files
    assert not any(f.startswith("text_encoder/") and f.endswith(".safetensors") for f in files)  # frozen, not copied
    loaded = DiffusionPipeline.from_pretrained(tmp_path / "m")
    assert isinstance(loaded, ImaginePipeline)
    loaded.set_progress_bar_config(disable=True)
    kw = dict(num_inference_steps=3, output_type="np")
    a = tiny_pipe(["a red circle"], generator=_gens([5]), **kw).images
    b = loaded(["a red circle"], generator=_gens([5]), **kw).images
    np.testing.assert_array_equal(a, b)


def test_same_seed_same_image_and_batching_does_not_matter(tiny_pipe):
    kw = dict(num_inference_steps=3, output_type="np")
    alone = tiny_pipe(["a blue square"], generator=_gens([7]), **kw).images
    batched = tiny_pipe(["a red circle", "a blue square"], generator=_gens([1, 7]), **kw).images
    other = tiny_pipe(["a blue square"], generator=_gens([8]), **kw).images
    np.testing.assert_allclose(alone[0], batched[1], atol=1e-5)
    assert np.abs(alone - other).max() > 1e-3


def test_outputs_and_counts(tiny_pipe):
    out = tiny_pipe("a star", num_images_per_prompt=3, num_inference_steps=2, generator=_gens([0, 1, 2]))
    assert len(out.images) == 3 and out.images[0].size == (32, 32) and out.images[0].mode == "RGB"
    pt = tiny_pipe("a star", num_inference_steps=2, output_type="pt").images
    assert pt.shape == (1, 3, 32, 32) and 0 <= float(pt.min()) and float(pt.max()) <= 1


def test_negative_prompt_and_callback(tiny_pipe):
    seen = []

    def cb(pipe, i, t, tensors):
        seen.append(i)
        return {"latents": tensors["latents"]}

    kw = dict(num_inference_steps=3, output_type="np", guidance_scale=3.0)
    plain = tiny_pipe("a tree", generator=_gens([3]), callback_on_step_end=cb, **kw).images
    neg = tiny_pipe("a tree", negative_prompt="a car", generator=_gens([3]), **kw).images
    assert seen == [0, 1, 2]
    assert np.abs(plain - neg).max() > 1e-4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(prompt=[]), "prompt is empty"),
        (dict(prompt="x", output_type="jpeg"), "output_type"),
        (dict(prompt=["a", "b"], generator=[torch.Generator()]), "one per image"),
        (dict(prompt=["a", "b"], negative_prompt=["n"]), "negative prompts"),
    ],
)
def test_bad_input_is_an_error(tiny_pipe, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny_pipe(num_inference_steps=1, **kwargs)
