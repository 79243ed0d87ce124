"""`imagine train` on a real (tiny) Lance table: outputs, card, registry lineage, resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file


UNET = Path("unet") / "diffusion_pytorch_model.safetensors"


def _env():
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def test_train_saves_loadable_pipeline_card_and_lineage(scene_dataset, tmp_path):
    from diffusers import DiffusionPipeline

    from imagine.model.pipeline import ImaginePipeline
    from imagine.model.registry import models_for_versions, registry_path
    from imagine.model.train import train

    home = tmp_path / "home"
    result = train(scene_dataset, None, "tiny", tmp_path / "m", data_home=home, progress=False)
    assert result.steps == 6
    for name in ("model_index.json", "card.json", "CARD.md", "samples.png", "loss.png", str(UNET)):
        assert (tmp_path / "m" / name).is_file(), name
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["dataset"]["versions"] == [1] and len(card["dataset"]["digests"]["1"]) == 64
    assert card["training"]["steps"] == 6 and card["training"]["seed"] == 0
    assert card["training"]["samples_seen"] == 6 * 4
    pipe = DiffusionPipeline.from_pretrained(tmp_path / "m")
    assert isinstance(pipe, ImaginePipeline) and pipe.unet.config.sample_size == 16

    registry = registry_path(home)
    found = models_for_versions(registry, str(scene_dataset / "images.lance"), {1})
    assert [r.model_id for r in found] == [result.model_id]
    assert models_for_versions(registry, str(scene_dataset / "images.lance"), {2}) == []


def test_train_picks_the_requested_dataset_version(tmp_path, tiny_config):
    from imagine.model.synthetic import write_scene_dataset
    from imagine.model.train import train

    write_scene_dataset(tmp_path / "d", rows=8, seed=1)
    write_scene_dataset(tmp_path / "d", rows=8, seed=2, mode="append")
    cfg = tiny_config(tmp_path / "c.toml", max_steps=1, validate_every=100, checkpoint_every=100)
    first = train(tmp_path / "d", 1, cfg, tmp_path / "m1", data_home=tmp_path / "h", progress=False)
    latest = train(tmp_path / "d", None, cfg, tmp_path / "m2", data_home=tmp_path / "h", progress=False)
    assert first.card["dataset"]["versions"] == [1] and first.card["dataset"]["rows"] == 8
    assert latest.card["dataset"]["versions"] == [2] and latest.card["dataset"]["rows"] == 16
    assert first.card["dataset"]["digests"]["1"] != latest.card["dataset"]["digests"]["2"]


def test_unknown_config_key_is_an_error(tmp_path):
    from imagine.model.train_config import load_config

    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nlearning_rat = 0.1\n")
    with pytest.raises(ValueError, match="learning_rat"):
        load_config(bad)


def test_resume_after_kill_matches_uninterrupted_run(scene_dataset, tmp_path, tiny_config):
    from imagine.model.train import train

    cfg = tiny_config(tmp_path / "c.toml", max_steps=40, checkpoint_every=5, validate_every=1000)
    cmd = [sys.executable, "-m", "imagine", "--data-home", str(tmp_path / "h"), "train",
           "--dataset", str(scene_dataset), "--config", str(cfg), "--out", str(tmp_path / "killed")]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoints = tmp_path / "killed" / "train" / "checkpoints"
    deadline = time.monotonic() + 120
    while not list(checkpoints.glob("checkpoint-*/state.json")):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "model_index.json").exists(), "the run finished before the kill"
    done = sorted(checkpoints.glob("checkpoint-*/state.json"))
    step_at_kill = json.loads(done[-1].read_text())["step"]
    assert 0 < step_at_kill < 40

    resumed = train(scene_dataset, None, cfg, tmp_path / "killed", data_home=tmp_path / "h", progress=False)
    assert resumed.resumed_from is not None and resumed.resumed_from >= step_at_kill and resumed.steps == 40
    straight = train(scene_dataset, None, cfg, tmp_path / "straight", data_home=tmp_path / "h", progress=False)
    a = load_file(tmp_path / "killed" / UNET)
    b = load_file(tmp_path / "straight" / UNET)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert resumed.final_loss == straight.final_loss


@pytest.mark.slow
def test_two_cpu_processes_over_gloo(scene_dataset, tmp_path, tiny_config):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tiny_config(tmp_path / "c.toml", max_steps=4, checkpoint_every=2, validate_every=100)
    accelerate = Path(sys.executable).with_name("accelerate")
    cmd = [str(accelerate), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(port),
           "-m", "imagine", "--data-home", str(tmp_path / "h"), "train",
           "--dataset", str(scene_dataset), "--config", str(cfg), "--out", str(tmp_path / "m")]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["training"]["num_processes"] == 2
    assert card["training"]["samples_seen"] == 4 * 4 * 2  # steps x per-process batch x processes
    ckpt = tmp_path / "m" / "train" / "checkpoints" / "checkpoint-0000004"
    assert (ckpt / "random_states_0.pkl").is_file() and (ckpt / "random_states_1.pkl").is_file()


def test_publish_copies_pipeline_and_card_not_checkpoints(scene_dataset, tmp_path, tiny_config):
    from diffusers import DiffusionPipeline

    from imagine.model.publish import publish_model
    from imagine.model.train import train

    cfg = tiny_config(tmp_path / "c.toml", max_steps=2, validate_every=2, checkpoint_every=2)
    train(scene_dataset, None, cfg, tmp_path / "m", data_home=tmp_path / "h", progress=False)
    (tmp_path / "shipped").mkdir()
    (tmp_path / "shipped" / "stale.txt").write_text("old")
    publish_model(tmp_path / "m", tmp_path / "shipped")
    names = sorted(p.name for p in (tmp_path / "shipped").iterdir())
    assert names == sorted(["model_index.json", "unet", "scheduler", "text_encoder", "tokenizer",
                            "card.json", "CARD.md", "samples.png", "loss.png"])
    assert DiffusionPipeline.from_pretrained(tmp_path / "shipped").unet.config.sample_size == 16
    with pytest.raises(FileNotFoundError, match="not a finished model folder"):
        publish_model(tmp_path / "m" / "train", tmp_path / "x")
