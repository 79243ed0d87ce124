"""LoRA fine-tuning of the tiny SD-shaped pipeline on a real Lance dataset, then generation with the adapter."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from imagine.cli import app
from imagine.generate.core import GenerationRequest, Generator
from imagine.model.lora import LORA_CARD, LORA_WEIGHTS, finetune_lora


def test_lora_finetune_learns_saves_and_reloads(tiny_sd_dir, tiny_lance_dataset, tmp_path, sd_generator):
    out = tmp_path / "lora"
    report = finetune_lora(tiny_sd_dir, tiny_lance_dataset, out, steps=25, batch_size=4, rank=4,
                           learning_rate=5e-3, seed=0, device="cpu", progress=False)
    assert (out / LORA_WEIGHTS).is_file()
    card = json.loads((out / LORA_CARD).read_text())
    assert card["steps"] == 25 and len(card["losses"]) == 25 and card["dataset_version"] >= 1
    # fixed batch, fixed noise: the adapted UNet fits the data better than the base one
    assert report.eval_loss_after < report.eval_loss_before

    from safetensors.torch import load_file

    weights = load_file(out / LORA_WEIGHTS)
    assert weights and all(k.startswith("unet.") for k in weights)
    assert any("lora" in k and float(v.abs().sum()) > 0 for k, v in weights.items() if "up" in k or "lora_B" in k)

    # reload through the standard diffusers loader and generate: images change vs the base model
    tuned = Generator.load(tiny_sd_dir, lora=out, device="cpu")
    assert tuned.model_id.endswith("+lora:lora")
    req = GenerationRequest("a red circle on grass", n=1, seed=3, steps=3)
    a = np.asarray(tuned.generate([req])[0].images[0], dtype=np.int16)
    b = np.asarray(sd_generator.generate([req])[0].images[0], dtype=np.int16)
    assert a.shape == b.shape and np.abs(a - b).max() > 0


def test_finetune_cli_and_refusals(tiny_sd_dir, tiny_imagine_dir, tiny_lance_dataset, tmp_path):
    result = CliRunner().invoke(app, ["finetune", "--model", str(tiny_sd_dir), "--dataset", str(tiny_lance_dataset),
                                      "--out", str(tmp_path / "cli-lora"), "--steps", "2", "--batch-size", "2", "--rank", "2"])
    assert result.exit_code == 0, result.output
    assert "LoRA weights:" in result.output and (tmp_path / "cli-lora" / LORA_WEIGHTS).is_file()

    with pytest.raises(ValueError, match="Stable-Diffusion-shaped"):
        finetune_lora(tiny_imagine_dir, tiny_lance_dataset, tmp_path / "x", steps=1, progress=False)
    with pytest.raises(FileNotFoundError, match="images.lance"):
        finetune_lora(tiny_sd_dir, tmp_path, tmp_path / "y", steps=1, progress=False)
