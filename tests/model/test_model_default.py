"""The shipped default model: small, carded, loadable offline, deterministic."""

from __future__ import annotations

import json

import numpy as np
import torch

from imagine.config import DEFAULT_MODEL_DIR


def test_shipped_weights_are_small_and_carded():
    weights = sum(p.stat().st_size for p in DEFAULT_MODEL_DIR.rglob("*.safetensors"))
    assert 0 < weights <= 20 * 1024 * 1024
    card = json.loads((DEFAULT_MODEL_DIR / "card.json").read_text())
    training = card["training"]
    assert training["command"].startswith("imagine ") and " train " in training["command"]
    assert training["steps"] > 0 and training["wall_seconds"] > 0 and training["seed"] == 0
    assert card["hardware"]["cpu_count"] >= 1
    assert card["dataset"]["versions"] and all(len(d) == 64 for d in card["dataset"]["digests"].values())
    assert (DEFAULT_MODEL_DIR / "CARD.md").read_text().startswith("# Model card")


def test_shipped_model_loads_and_is_deterministic():
    from diffusers import DiffusionPipeline

    import imagine.model.pipeline  # noqa: F401  (registers ImaginePipeline)

    pipe = DiffusionPipeline.from_pretrained(DEFAULT_MODEL_DIR)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.unet.dtype == torch.float32 and pipe.scheduler.config.thresholding

    def run(seed):
        return pipe("a red circle on grass", num_inference_steps=4, output_type="np",
                    generator=[torch.Generator().manual_seed(seed)]).images

    a, b, c = run(0), run(0), run(1)
    assert a.shape == (1, 32, 32, 3)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.05
