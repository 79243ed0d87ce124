"""Train the scene checker's detector on rendered scenes: `imagine platform train-checker`.

Deterministic for a seed on a given machine and thread count (seeded data, seeded init, deterministic
torch algorithms). The shipped weights (src/imagine/assets/scene-checker/) came from the defaults below.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imagine.config import ASSETS_DIR

log = logging.getLogger(__name__)

DEFAULT_CHECKER_DIR = ASSETS_DIR / "scene-checker"


@dataclass(frozen=True)
class TrainConfig:
    samples: int = 40000  # distinct rendered training images
    epochs: int = 8
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    threads: int = 1
    layouts: float = 0.0  # share of training scenes drawn from checker_layouts (large objects, tight rows, mixed colours)
    init: Path | None = None  # start from these weights (a fine-tune) instead of a seeded random init
    geometry: float = 0.0  # chance of each shape augmentation: border crops, smooth warps (checker_data.render_for_checker)


def _focal(pred: "torch.Tensor", gt: "torch.Tensor") -> "torch.Tensor":
    """CenterNet's penalty-reduced focal loss on the centre heatmap."""
    import torch

    p = torch.sigmoid(pred).clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p**2 * (1 - gt) ** 4 * (1 - pos)).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def losses(out: dict, batch: dict) -> dict:
    import torch
    from torch.nn import functional as F

    heat = _focal(out["heat"], batch["heat"])
    kind = F.cross_entropy(out["kind"], batch["kind"], ignore_index=-100)
    colour = F.cross_entropy(out["colour"], batch["colour"], ignore_index=-100)
    cells = batch["upside_down"] >= 0
    upside = F.binary_cross_entropy_with_logits(out["upside_down"][cells], batch["upside_down"][cells])
    mask = batch["centre_mask"].unsqueeze(1).expand_as(out["offset"])
    offset = F.l1_loss(out["offset"][mask], batch["offset"][mask]) if mask.any() else torch.zeros(())
    background = F.cross_entropy(out["background"], batch["background"])
    return {"heat": heat, "kind": kind, "colour": colour, "upside_down": 0.5 * upside, "offset": offset, "background": background}


def _tensors(arrays: dict, index: np.ndarray) -> dict:
    import torch

    batch = {k: torch.from_numpy(v[index]) for k, v in arrays.items() if k != "images"}
    batch["images"] = torch.from_numpy(arrays["images"][index]).permute(0, 3, 1, 2).float().div(255)
    return batch


def train_checker(out: Path = DEFAULT_CHECKER_DIR, config: TrainConfig = TrainConfig(), *, progress: bool = True) -> Path:
    """Train the detector and save ``model.safetensors`` (fp16) and ``config.json`` under ``out``."""
    import torch
    from imagine.platform.checker import SceneChecker
    from imagine.platform.checker_data import make_batch, training_scenes
    from imagine.platform.checker_model import CheckerConfig, SceneDetector
    from imagine.progress import progress_bar

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()
    rng = random.Random(config.seed)
    arrays = make_batch(training_scenes(config.samples, seed=config.seed, layouts=config.layouts), rng, geometry=config.geometry)
    log.info("rendered %d training images in %.0fs", config.samples, time.perf_counter() - started)

    model = SceneDetector(CheckerConfig())
    if config.init is not None:
        model = SceneChecker.load(config.init).model
    steps_per_epoch = config.samples // config.batch_size
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=config.lr, total_steps=steps_per_epoch * config.epochs, pct_start=0.15)
    order = np.random.default_rng(config.seed)
    model.train()
    with progress_bar(disable=not progress) as bar:
        task = bar.add_task("train checker", total=steps_per_epoch * config.epochs)
        for epoch in range(config.epochs):
            permutation = order.permutation(config.samples)
            totals: dict[str, float] = {}
            for step in range(steps_per_epoch):
                batch = _tensors(arrays, permutation[step * config.batch_size : (step + 1) * config.batch_size])
                # Random horizontal flips double the layouts (left/right swap) without new renders.
                flip = torch.from_numpy(order.random(len(batch["images"])) < 0.5)
                batch = _flip(batch, flip)
                parts = losses(model(batch["images"]), batch)
                loss = sum(parts.values())
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
                for k, v in parts.items():
                    totals[k] = totals.get(k, 0.0) + v.item() / steps_per_epoch
                bar.advance(task)
            log.info("epoch %d: %s", epoch + 1, " ".join(f"{k}={v:.3f}" for k, v in totals.items()))
            # Saved every epoch, so a long run can be inspected (and used) before it ends.
            _save(model, out)
    log.info("trained the scene checker in %.0fs -> %s", time.perf_counter() - started, out)
    return out


def _save(model: "torch.nn.Module", out: Path) -> None:
    import torch
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    tmp = out / "model.safetensors.tmp"
    save_file(state, str(tmp))
    tmp.chmod(0o644)
    tmp.replace(out / "model.safetensors")
    model.config.save(out / "config.json")


def _flip(batch: dict, flip: "torch.Tensor") -> dict:
    """Mirror the chosen samples left-right, targets included (offsets mirror within their cell too)."""
    import torch

    if not flip.any():
        return batch
    out = dict(batch)
    for key in ("images", "heat", "kind", "colour", "upside_down", "centre_mask"):
        value = batch[key].clone()
        value[flip] = value[flip].flip(-1)
        out[key] = value
    offset = batch["offset"].clone()
    mirrored = offset[flip].flip(-1)
    mirrored[:, 0] = torch.where(out["centre_mask"][flip], 1 - mirrored[:, 0], mirrored[:, 0])
    offset[flip] = mirrored
    out["offset"] = offset
    return out
