"""Recipe parts: the MMDiT denoiser, descriptive-caption mixing, CPU budgets, portable checkpoints and cards."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

UNET = Path("unet") / "diffusion_pytorch_model.safetensors"


def _mmdit_config(path: Path, **train) -> Path:
    lines = ['name = "tiny-mmdit"', "[model]", 'architecture = "mmdit"', "resolution = 16", "patch_size = 2",
             "transformer_layers = 2", "transformer_heads = 2", "attention_head_dim = 16", "max_text_length = 16",
             "[data]", "batch_size = 4", "caption_dropout = 0.2", "descriptive_ratio = 0.5", "[train]",
             "max_steps = 6", "learning_rate = 1e-3", "warmup_steps = 1", "ema_decay = 0.9", "checkpoint_every = 2",
             "validate_every = 100", "num_threads = 1", 'validation_prompts = ["a red circle"]', 'save_dtype = "float32"']
    for key, value in train.items():  # replaced where the key is, else added to [train]
        line = f"{key} = {json.dumps(value)}"
        found = [i for i, ln in enumerate(lines) if ln.startswith(f"{key} =")]
        if found:
            lines[found[0]] = line
        else:
            lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def described(tmp_path_factory):
    """A Lance table of rendered scenes with the recaption stage's column (the demo captioner's words)."""
    from imagine.model.synthetic import write_scene_dataset

    folder = tmp_path_factory.mktemp("described")
    write_scene_dataset(folder, rows=16, seed=0, descriptive=True)
    return folder


def test_mmdit_trains_mixes_descriptive_captions_and_loads_as_a_pipeline(described, tmp_path):
    from diffusers import DiffusionPipeline

    from imagine.generate.core import GenerationRequest, Generator
    from imagine.model.mmdit import ImagineMMDiT
    from imagine.model.train import train

    result = train(described, None, _mmdit_config(tmp_path / "c.toml"), tmp_path / "m", data_home=tmp_path / "h",
                   progress=False)
    captions = result.card["captions"]
    assert captions["descriptive_ratio"] == 0.5
    counts = captions["examples_by_caption"]
    assert counts["user"] > 0 and counts["descriptive"] > 0  # both kinds were really shown
    assert captions["descriptive_share_measured"] == round(counts["descriptive"] / sum(counts.values()), 4)
    assert result.card["training"]["architecture"] == "mmdit" and result.card["training"]["cpu_seconds"] > 0
    assert result.card["dataset"]["rows_with_descriptive_caption"] == 16

    pipe = DiffusionPipeline.from_pretrained(tmp_path / "m")
    assert isinstance(pipe.unet, ImagineMMDiT)
    gen = Generator.load(tmp_path / "m", device="cpu")
    [res] = gen.generate([GenerationRequest("a red circle above a blue square", n=2, seed=3, steps=3)])
    assert [im.size for im in res.images] == [(16, 16), (16, 16)]


def test_descriptive_ratio_zero_shows_only_user_captions(described, tmp_path):
    from imagine.model.train import train

    cfg = _mmdit_config(tmp_path / "c.toml", max_steps=3)
    cfg.write_text(cfg.read_text().replace("descriptive_ratio = 0.5", "descriptive_ratio = 0.0"))
    with_column = train(described, None, cfg, tmp_path / "a", data_home=tmp_path / "h", progress=False)
    assert with_column.card["captions"]["examples_by_caption"] == {"user": 0, "descriptive": 0}
    assert with_column.card["captions"]["descriptive_share_measured"] == 0.0


def test_cpu_budget_stops_the_run(described, tmp_path):
    from imagine.model.train import train

    result = train(described, None, _mmdit_config(tmp_path / "c.toml", max_steps=10_000, max_cpu_minutes=0.001),
                   tmp_path / "m", data_home=tmp_path / "h", progress=False)
    assert 1 <= result.steps < 10_000


def test_a_mirrored_checkpoint_resumes_on_a_fresh_machine(described, tmp_path):
    """Train 4 steps with a mirror, move only the mirror elsewhere, continue to 6: same weights as 6 straight."""
    from imagine.model.train import train

    cfg = _mmdit_config(tmp_path / "c.toml", max_steps=4)
    train(described, None, cfg, tmp_path / "first", data_home=tmp_path / "h", progress=False, mirror=tmp_path / "mirror")
    state = json.loads((tmp_path / "mirror" / "state.json").read_text())
    assert state["step"] == 4 and state["config"]["model"]["architecture"] == "mmdit" and state["data_position"]
    moved = shutil.move(tmp_path / "mirror", tmp_path / "elsewhere" / "mirror")

    cfg6 = _mmdit_config(tmp_path / "c6.toml", max_steps=6)
    resumed = train(described, None, cfg6, tmp_path / "second", data_home=tmp_path / "h", progress=False,
                    mirror=moved)
    assert resumed.resumed_from == 4 and resumed.steps == 6 and resumed.card["training"]["resumed"]
    assert json.loads((Path(moved) / "state.json").read_text())["step"] == 6  # the mirror follows the run
    weights = load_file(str(tmp_path / "second" / UNET))
    assert all(torch.isfinite(v.float()).all() for v in weights.values())


def test_the_card_never_records_an_absolute_path(scene_dataset, tmp_path, tiny_config):
    from imagine.model.train import train

    cfg = tiny_config(tmp_path / "c.toml", max_steps=1, validate_every=100, checkpoint_every=100)
    command = f"imagine --data-home {tmp_path / 'h'} train --dataset {scene_dataset} --out {tmp_path / 'm'}"
    train(scene_dataset.resolve(), None, cfg, (tmp_path / "m").resolve(), data_home=tmp_path / "h", progress=False,
          command=command)
    for name in ("card.json", "CARD.md"):
        text = (tmp_path / "m" / name).read_text()
        assert str(tmp_path) not in text and str(scene_dataset) not in text, name
        assert "/tmp/" not in text and '"/' not in text and "`/" not in text, name
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["dataset"]["uri"] == "images.lance"
    assert card["training"]["command"].startswith("imagine --data-home h train --dataset ")


def test_portable_keeps_relative_paths_and_urls():
    from imagine.model.card import portable

    here = Path.cwd()
    assert portable(f"--out {here / 'var' / 'm'} s3://bucket/x.lance a/b") == "--out var/m s3://bucket/x.lance a/b"
    assert portable({"k": ["/srv/data/set"]}) == {"k": ["set"]}


def test_the_gpu_recipe_entry_point_runs_at_tiny_size_on_cpu(tmp_path, monkeypatch):
    """`make train-default-gpu` runs this same entry point; here with the tiny config and two steps."""
    from imagine.model.recipe import main

    monkeypatch.setenv("OUT", str(tmp_path / "out"))
    summary = main(["--config", "tiny", "--posts", "40", "--workers", "1", "--max-steps", "2",
                    "--prompts-per-category", "1", "--images-per-prompt", "1", "--no-progress"])
    out = tmp_path / "out"
    for name in ("model/model_index.json", "model/card.json", "benchmark/compositional.json", "recipe.json"):
        assert (out / name).is_file(), name
    assert summary["steps"] == 2 and set(summary["seconds"]) == {"platform", "dataset", "train", "benchmark"}
    assert 0.0 <= summary["compositional"]["overall"] <= 1.0
    card = json.loads((out / "model" / "card.json").read_text())
    assert card["metrics"]["compositional"]["overall"] == summary["compositional"]["overall"]
    assert card["captions"]["captioner"]["id"] == "scene-checker"  # the recaption stage ran in the build
    assert str(tmp_path) not in (out / "recipe.json").read_text() + (out / "model" / "card.json").read_text()


def test_the_sd15_timing_script_runs_at_tiny_size_on_cpu(tmp_path):
    """benchmarks/sd15_generate.py, the script a GPU machine runs at SD 1.5's size, end to end at tiny size."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "sd.json"
    proc = subprocess.run([sys.executable, str(root / "benchmarks" / "sd15_generate.py"), "--shape", "tiny", "--device", "cpu",
                           "--resolution", "32", "--steps", "2", "--batch", "2", "--repeats", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["shape"] == "tiny" and figures["attention"] == "sdpa" and figures["images_per_second"] > 0
    assert "images/s" in proc.stdout


def test_the_sd15_shape_has_stable_diffusion_15s_size():
    """Counted on the meta device: nothing is allocated, the shapes are SD 1.5's (UNet ~860M parameters)."""
    from imagine.model.tiny_sd import tiny_sd_pipeline

    with torch.device("meta"):
        pipe = tiny_sd_pipeline(512, shape="sd15")
    unet = sum(p.numel() for p in pipe.unet.parameters())
    text = sum(p.numel() for p in pipe.text_encoder.parameters())
    assert 855e6 < unet < 865e6 and 120e6 < text < 125e6
    assert pipe.unet.config.sample_size == 64 and pipe.unet.config.cross_attention_dim == 768


def test_the_shipped_default_card_records_no_absolute_path():
    from imagine.model.train_config import CONFIGS_DIR

    folder = CONFIGS_DIR.parents[1] / "assets" / "default-model"
    for name in ("card.json", "CARD.md"):
        text = (folder / name).read_text()
        assert '"/' not in text and "`/" not in text and " /" not in text.replace(" / ", ""), name


def test_init_from_starts_from_a_pipelines_weights_and_refuses_a_misfit(described, tmp_path):
    from imagine.model.train import train

    first = train(described, None, _mmdit_config(tmp_path / "a.toml", max_steps=2), tmp_path / "a",
                  data_home=tmp_path / "h", progress=False)
    cfg = _mmdit_config(tmp_path / "b.toml", max_steps=1, learning_rate=1e-12, init_from=str(first.model_dir))
    second = train(described, None, cfg, tmp_path / "b", data_home=tmp_path / "h", progress=False)
    a, b = load_file(str(tmp_path / "a" / UNET)), load_file(str(tmp_path / "b" / UNET))
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-3) for k in a)  # ~no step taken: the same weights
    assert second.card["config"]["train"]["init_from"] == str(first.model_dir.name)  # made portable in the card

    misfit = _mmdit_config(tmp_path / "c.toml", max_steps=1, transformer_layers=3, init_from=str(first.model_dir))
    with pytest.raises(ValueError, match="does not fit"):
        train(described, None, misfit, tmp_path / "c", data_home=tmp_path / "h", progress=False)
