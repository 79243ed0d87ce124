"""Training an ImaginePipeline on a Lance dataset version, resumable after ``kill -9``.

    imagine train --dataset var/datasets/demo --config default --out var/models/demo
    accelerate launch --cpu --num_processes 2 -m imagine train ...   # data parallel (gloo on CPU)

Why every random draw is keyed by the micro-batch number (noise, timesteps, caption
dropout and the row order all come from ``(seed, micro_batch)``): a run resumed from a
checkpoint then computes exactly what the uninterrupted run computes; the checkpoint holds
model, optimiser, LR schedule, EMA, RNG states and the data position.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import hashlib
import json
import logging
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from imagine.atomic import atomic_write
from imagine.dataset.recaption import scrub_held_out
from imagine.model.train_config import TrainConfig, load_config

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "checkpoint-"
STATE_FILE = "state.json"


@dataclass
class TrainResult:
    model_dir: Path
    model_id: str
    steps: int
    wall_seconds: float
    final_loss: float | None
    resumed_from: int | None = None
    card: dict = field(default_factory=dict)


def _step_seed(seed: int, micro_batch: int, rank: int) -> int:
    digest = hashlib.sha256(f"{seed}:{micro_batch}:{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def latest_checkpoint(checkpoints: Path) -> Path | None:
    """The newest complete checkpoint (a temp folder from a killed save never counts)."""
    if not checkpoints.is_dir():
        return None
    done = [p for p in checkpoints.iterdir() if p.name.startswith(CHECKPOINT_PREFIX) and (p / STATE_FILE).is_file()]
    return max(done, key=lambda p: int(p.name[len(CHECKPOINT_PREFIX) :]), default=None)


class Trainer:
    """One training run; ``run()`` goes from the current position to ``max_steps``."""

    def __init__(self, dataset, version, cfg: TrainConfig, out: Path, *, data_home: Path | None, progress: bool,
                 command: str | None, mirror: Path | None = None):
        from accelerate import Accelerator
        from diffusers.optimization import get_scheduler
        from diffusers.training_utils import EMAModel

        from imagine.model.data import LanceImageStream
        from imagine.model.factory import build_denoiser, training_scheduler
        from imagine.model.text_cache import encode_captions
        from imagine.model.text_encoder import MiniLMTextEncoder

        self.cfg, self.out, self.data_home, self.progress = cfg, Path(out), data_home, progress
        self.mirror = Path(mirror) if mirror is not None else None
        self.command = command or _command_line()
        if cfg.train.num_threads > 0:
            torch.set_num_threads(cfg.train.num_threads)
        # cpu=True without an accelerator: under a multi-process launcher that selects gloo (MULTI_CPU).
        self.acc = Accelerator(mixed_precision=cfg.train.mixed_precision, cpu=not torch.cuda.is_available())
        self.work = self.out / "train"
        self.checkpoints = self.work / "checkpoints"
        self.stream = LanceImageStream(dataset, version, resolution=cfg.model.resolution, seed=cfg.train.seed)
        self.batch_size = cfg.data.batch_size
        self.global_batch = self.batch_size * self.acc.num_processes
        self.stream.position(0, self.global_batch)  # fails early when the dataset is smaller than a batch

        self.encoder = MiniLMTextEncoder(max_length=cfg.model.max_text_length)
        # Rows 0..N-1: the user's captions; rows N..2N-1: the descriptive ones (the user's where a row has none).
        # Held-out benchmark words never reach training, whoever wrote them.
        user = [scrub_held_out(c) for c in self.stream.captions]
        self.has_descriptive = torch.tensor([d is not None for d in self.stream.descriptive])
        described = [scrub_held_out(d) if d is not None else u for d, u in zip(self.stream.descriptive, user)]
        self.scrubbed = sum(a != b for a, b in zip(user + described, self.stream.captions + self.stream.descriptive)
                            if b is not None)
        with self.acc.main_process_first():
            self.texts = encode_captions(user + described, self.encoder, cache_dir=self.work / "cache",
                                         progress=progress and self.acc.is_main_process)
        self.caption_counts = {"user": 0, "descriptive": 0}
        torch.manual_seed(cfg.train.seed)
        unet = build_denoiser(cfg.model)
        if cfg.train.init_from:
            init_weights(unet, Path(cfg.train.init_from))
        self.noise_scheduler = training_scheduler(cfg.model)
        self.ema = EMAModel(unet.parameters(), decay=cfg.train.ema_decay, foreach=True)
        optimizer = torch.optim.AdamW(unet.parameters(), lr=cfg.train.learning_rate, weight_decay=cfg.train.weight_decay)
        # The LR schedule is stepped by us once per optimiser step (accelerate would step it once per process).
        self.lr_scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=cfg.train.warmup_steps,
                                          num_training_steps=cfg.train.max_steps)
        self.unet, self.optimizer = self.acc.prepare(unet, optimizer)
        self.acc.register_for_checkpointing(self.lr_scheduler, self.ema)
        self.alphas = self.noise_scheduler.alphas_cumprod
        self.step = 0
        self.loss_history: list[tuple[int, float]] = []
        self.wall_before = 0.0
        self.cpu_before = 0.0
        self.cpu_started = time.process_time()
        self.resumed_from: int | None = None
        self._reader = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lance-reader")
        self._prefetched: dict[int, concurrent.futures.Future] = {}

    # -- one optimiser step ------------------------------------------------------------
    def micro_batch_loss(self, micro_batch: int) -> torch.Tensor:
        from diffusers.training_utils import compute_snr

        from imagine.model.data import to_model_range

        cfg = self.cfg
        rank = self.acc.process_index
        images, rows = self.fetch(micro_batch)
        x0 = to_model_range(images).to(self.acc.device)
        if cfg.data.hflip:
            x0 = torch.flip(x0, dims=[3])
        gen = torch.Generator().manual_seed(_step_seed(cfg.train.seed, micro_batch, rank))
        noise = torch.randn(x0.shape, generator=gen).to(self.acc.device)
        t = torch.randint(0, cfg.model.num_train_timesteps, (x0.shape[0],), generator=gen)
        drop = torch.rand(x0.shape[0], generator=gen) < cfg.data.caption_dropout
        # Drawn after the draws above, so a run without descriptive captions draws exactly what it always did.
        descriptive = (torch.rand(x0.shape[0], generator=gen) < cfg.data.descriptive_ratio) & self.has_descriptive[rows]
        if cfg.data.descriptive_ratio > 0:
            kept = ~drop
            self.caption_counts["descriptive"] += int((descriptive & kept).sum())
            self.caption_counts["user"] += int((~descriptive & kept).sum())
        states, mask = self.texts.lookup([r + len(self.stream) * int(d) for r, d in zip(rows, descriptive.tolist())], drop)
        states, mask, t = states.to(self.acc.device), mask.to(self.acc.device), t.to(self.acc.device)
        noisy = self.noise_scheduler.add_noise(x0, noise, t)
        if cfg.model.prediction_type == "epsilon":
            target = noise
        elif cfg.model.prediction_type == "v_prediction":
            target = self.noise_scheduler.get_velocity(x0, noise, t)
        else:
            raise ValueError(f"unsupported prediction_type {cfg.model.prediction_type!r}")
        with self.acc.autocast():
            pred = self.unet(noisy, t, encoder_hidden_states=states, encoder_attention_mask=mask).sample
        mse = (pred.float() - target.float()).pow(2).mean(dim=(1, 2, 3))
        gamma = cfg.train.min_snr_gamma
        if gamma > 0:
            snr = compute_snr(self.noise_scheduler, t)
            clipped = torch.clamp(snr, max=gamma)
            weight = clipped / snr if cfg.model.prediction_type == "epsilon" else clipped / (snr + 1)
            mse = mse * weight
        return mse.mean()

    def fetch(self, micro_batch: int) -> tuple[torch.Tensor, list[int]]:
        """This process's rows of ``micro_batch``; the next one is read and decoded in a thread meanwhile."""
        rank = self.acc.process_index

        def read(mb: int):
            return self.stream.fetch(self.stream.indices(mb, self.global_batch, rank, self.batch_size))

        pending = self._prefetched.pop(micro_batch, None)
        batch = pending.result() if pending is not None else read(micro_batch)
        self._prefetched = {micro_batch + 1: self._reader.submit(read, micro_batch + 1)}
        return batch

    def train_step(self) -> float:
        """Accumulate ``grad_accum`` micro-batches, clip, step optimiser, LR schedule and EMA."""
        accum = self.cfg.train.grad_accum
        total = 0.0
        self.unet.train()
        for k in range(accum):
            micro_batch = self.step * accum + k
            sync = k == accum - 1
            ctx = self.acc.no_sync(self.unet) if not sync else contextlib.nullcontext()
            with ctx:
                loss = self.micro_batch_loss(micro_batch) / accum
                self.acc.backward(loss)
            total += float(loss.detach())
        if self.cfg.train.max_grad_norm > 0:
            self.acc.clip_grad_norm_(self.unet.parameters(), self.cfg.train.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.lr_scheduler.step()
        self.ema.step(self.acc.unwrap_model(self.unet).parameters())
        self.step += 1
        mean = torch.tensor([total], device=self.acc.device)
        return float(self.acc.reduce(mean, reduction="mean")) if self.acc.num_processes > 1 else total

    # -- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self, wall: float) -> Path:
        """Write to a temp folder, then rename: a kill mid-save leaves the last checkpoint intact."""
        final = self.checkpoints / f"{CHECKPOINT_PREFIX}{self.step:07d}"
        tmp = self.checkpoints / f".tmp-{CHECKPOINT_PREFIX}{self.step:07d}"
        if self.acc.is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        self.acc.wait_for_everyone()
        self.acc.save_state(str(tmp))
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            pos = self.stream.position(self.step * self.cfg.train.grad_accum, self.global_batch)
            state = {
                "step": self.step,
                "micro_batches": self.step * self.cfg.train.grad_accum,
                "data_position": {"epoch": pos.epoch, "offset": pos.offset},
                "wall_seconds": wall,
                "cpu_seconds": self.cpu_seconds(),
                "caption_counts": self.caption_counts,
                "loss_history": self.loss_history,
                "dataset_version": self.stream.version,
                "dataset_digest": self.stream.digest(),
                "num_processes": self.acc.num_processes,
                "config": self.cfg.to_dict(),
            }
            (tmp / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
            _fsync_dir(tmp)
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            _fsync_dir(self.checkpoints)
            for old in sorted(p for p in self.checkpoints.iterdir() if p.name.startswith(CHECKPOINT_PREFIX))[
                : -self.cfg.train.keep_checkpoints
            ]:
                shutil.rmtree(old, ignore_errors=True)
            if self.mirror is not None:
                mirror_checkpoint(final, self.mirror)
        self.acc.wait_for_everyone()
        return final

    def cpu_seconds(self) -> float:
        """CPU time of this process spent on this run, earlier sittings included."""
        return self.cpu_before + time.process_time() - self.cpu_started

    def maybe_resume(self) -> None:
        ckpt = latest_checkpoint(self.checkpoints)
        if ckpt is None and self.mirror is not None and (self.mirror / STATE_FILE).is_file():
            ckpt = self.mirror  # a fresh machine: continue from the portable copy
        if ckpt is None:
            return
        state = json.loads((ckpt / STATE_FILE).read_text(encoding="utf-8"))
        same_rows = state.get("dataset_digest") == self.stream.digest()  # a rebuilt dataset may get another version
        if state["dataset_version"] != self.stream.version and not same_rows:
            raise ValueError(f"{ckpt} was trained on dataset version {state['dataset_version']}, "
                             f"not {self.stream.version}: use a new --out or the same --version")
        if state["num_processes"] != self.acc.num_processes:
            raise ValueError(f"{ckpt} was written by {state['num_processes']} processes, now {self.acc.num_processes}: "
                             "the data order depends on it")
        self.acc.load_state(str(ckpt))
        self.step = int(state["step"])
        self.loss_history = [tuple(x) for x in state["loss_history"]]
        self.wall_before = float(state["wall_seconds"])
        self.cpu_before = float(state.get("cpu_seconds", 0.0))
        self.cpu_started = time.process_time()
        self.caption_counts = dict(state.get("caption_counts", self.caption_counts))
        self.resumed_from = self.step
        log.info("resumed from %s (step %d)", ckpt, self.step)

    # -- validation ----------------------------------------------------------------------
    def ema_unet(self):
        """A copy of the UNet holding the EMA weights (the training weights stay untouched)."""
        unet = copy.deepcopy(self.acc.unwrap_model(self.unet)).to("cpu", torch.float32)
        self.ema.copy_to(unet.parameters())
        return unet.eval()

    def validate(self) -> Path:
        from imagine.model.factory import assemble_pipeline
        from imagine.model.plots import loss_plot, sample_grid

        prompts = list(self.cfg.train.validation_prompts)
        pipe = assemble_pipeline(self.ema_unet(), self.cfg.model, self.encoder)
        pipe.set_progress_bar_config(disable=True)
        seeds = [0, 1, 2, 3]
        gens = [torch.Generator().manual_seed(s) for _ in prompts for s in seeds]
        images = pipe(prompts, num_images_per_prompt=len(seeds), num_inference_steps=20, guidance_scale=4.0,
                      generator=gens).images
        rows = [images[i * len(seeds) : (i + 1) * len(seeds)] for i in range(len(prompts))]
        samples = self.work / "samples"
        grid = sample_grid(rows, prompts, samples / f"step-{self.step:07d}.png")
        shutil.copyfile(grid, samples / ".latest.tmp")
        os.replace(samples / ".latest.tmp", self.work / "samples-latest.png")
        loss_plot(self.loss_history, self.work / "loss.png", title=f"{self.cfg.name}: training loss")
        if self.cfg.train.snapshot_pipelines:
            snapshot = self.work / "snapshots" / f"step-{self.step:07d}"
            save_pipeline_atomic(pipe, snapshot)
            atomic_write(snapshot / "progress.json", json.dumps({"step": self.step, "cpu_seconds": round(self.cpu_seconds(), 1)}))
        return grid

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> TrainResult:
        from imagine.progress import progress_bar

        cfg = self.cfg.train
        started = time.monotonic()
        budget = cfg.max_minutes * 60 if cfg.max_minutes > 0 else float("inf")
        cpu_budget = cfg.max_cpu_minutes * 60 if cfg.max_cpu_minutes > 0 else float("inf")
        show = self.progress and self.acc.is_main_process
        with progress_bar(disable=not show) as bar:
            task = bar.add_task("training", total=cfg.max_steps, completed=self.step)
            while self.step < cfg.max_steps:
                loss = self.train_step()
                self.loss_history.append((self.step, loss))
                bar.update(task, completed=self.step, description=f"training loss {loss:.4f}")
                wall = self.wall_before + time.monotonic() - started
                out_of_time = wall >= budget or self.cpu_seconds() >= cpu_budget
                if self.step % cfg.log_every == 0 and self.acc.is_main_process:
                    recent = [v for _, v in self.loss_history[-cfg.log_every:]]
                    log.info("step %d/%d loss %.5f (mean of %d) lr %.2e, %.1f min", self.step, cfg.max_steps,
                             float(np.mean(recent)), len(recent), self.lr_scheduler.get_last_lr()[0], wall / 60)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.max_steps or out_of_time:
                    self.save_checkpoint(wall)
                if self.acc.is_main_process and (self.step % cfg.validate_every == 0 or self.step == cfg.max_steps or out_of_time):
                    self.validate()
                if out_of_time:
                    log.warning("stopping at step %d: the time budget is spent (%.1f min wall, %.1f CPU-min)",
                                self.step, wall / 60, self.cpu_seconds() / 60)
                    break
        wall = self.wall_before + time.monotonic() - started
        self._reader.shutdown(wait=True, cancel_futures=True)
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            return self.finish(wall)
        return TrainResult(self.out, "", self.step, wall, None, self.resumed_from)

    def finish(self, wall: float) -> TrainResult:
        """Save the EMA pipeline, its card and pictures, and register it."""
        from imagine.config import get_settings
        from imagine.model.card import hardware, portable, write_card
        from imagine.model.factory import assemble_pipeline
        from imagine.model.registry import ModelRecord, register_model, registry_path

        dtype = {"float16": torch.float16, "float32": torch.float32, "bfloat16": torch.bfloat16}[self.cfg.train.save_dtype]
        unet = self.ema_unet().to(dtype)
        pipe = assemble_pipeline(unet, self.cfg.model, self.encoder)
        save_pipeline_atomic(pipe, self.out)
        weights = self.out / "unet" / "diffusion_pytorch_model.safetensors"
        model_id = f"{self.out.name}-{_sha256(weights)[:12]}"
        for name in ("samples-latest.png", "loss.png"):
            if (self.work / name).is_file():
                shutil.copyfile(self.work / name, self.out / name.replace("-latest", ""))
        tail = [v for _, v in self.loss_history[-50:]]
        final_loss = round(float(np.mean(tail)), 5) if tail else None
        denoiser = {"unet": "diffusers UNet2DConditionModel", "mmdit": "an MMDiT, diffusers SD3Transformer2DModel"}
        counts = self.caption_counts
        shown = counts["user"] + counts["descriptive"]
        card = {
            "model_id": model_id,
            "description": f"Pixel-space text-to-image diffusion ({denoiser.get(self.cfg.model.architecture, self.cfg.model.architecture)}) "
                           "conditioned on frozen all-MiniLM-L6-v2 token states; trained by `imagine train`.",
            "dataset": {
                "uri": self.stream.uri,
                "versions": [self.stream.version],
                "digests": {str(self.stream.version): self.stream.digest()},
                "rows": len(self.stream),
                "rows_with_descriptive_caption": int(self.has_descriptive.sum()),
            },
            "captions": {
                "captioner": dataset_captioner(self.stream.uri, self.stream.version),
                "descriptive_ratio": self.cfg.data.descriptive_ratio,
                "descriptive_share_measured": round(counts["descriptive"] / shown, 4) if shown else 0.0,
                "examples_by_caption": dict(counts),
                "held_out_words_scrubbed": self.scrubbed,
            },
            "training": {
                "command": self.command,
                "seed": self.cfg.train.seed,
                "steps": self.step,
                "samples_seen": self.step * self.cfg.train.grad_accum * self.global_batch,
                "wall_seconds": round(wall, 1),
                "cpu_seconds": round(self.cpu_seconds(), 1),
                "architecture": self.cfg.model.architecture,
                "final_loss": final_loss,
                "num_processes": self.acc.num_processes,
                "resumed": self.resumed_from is not None,
                "save_dtype": self.cfg.train.save_dtype,
                "parameters": sum(p.numel() for p in unet.parameters()),
            },
            "config": self.cfg.to_dict(),
            "hardware": hardware(),
            "metrics": {},
        }
        card = portable(card)
        write_card(self.out, card)
        home = self.data_home or get_settings().data_home
        register_model(registry_path(home), ModelRecord(
            model_id=model_id, path=str(self.out.resolve()), dataset_uri=self.stream.uri,
            dataset_versions=[self.stream.version], dataset_digests=card["dataset"]["digests"],
            notes=f"imagine train, config {self.cfg.name}, {self.step} steps",
        ))
        log.info("saved %s (%s) after %d steps, %.1f min", self.out, model_id, self.step, wall / 60)
        return TrainResult(self.out, model_id, self.step, wall, final_loss, self.resumed_from, card)


def init_weights(denoiser, folder: Path) -> None:
    """Load the denoiser weights of pipeline ``folder`` (its ``unet/``) into ``denoiser``; shapes must match."""
    from safetensors.torch import load_file

    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"train.init_from: {weights} not found (a pipeline folder with a unet/ is needed)")
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    try:
        missing, unexpected = denoiser.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a tensor of another shape
        raise ValueError(f"train.init_from: {folder} does not fit the configured model: {str(exc)[:300]}") from exc
    if missing or unexpected:
        raise ValueError(f"train.init_from: {folder} does not fit the configured model "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")


def dataset_captioner(images_uri: str, version: int) -> dict | None:
    """The captioner the dataset card of ``version`` (or the newest build before it) records, if any."""
    from imagine.dataset.card import card_dir

    if "://" in images_uri:
        return None
    folder = Path(images_uri).parent
    for v in range(version, 0, -1):
        path = card_dir(folder, v) / "card.json"
        if path.is_file():
            card = json.loads(path.read_text(encoding="utf-8"))
            if "captioner" in card:
                return card["captioner"]
    return None


def mirror_checkpoint(checkpoint: Path, mirror: Path) -> None:
    """Copy a finished checkpoint to ``mirror`` (e.g. a tracked folder), replacing the previous copy atomically.

    The copy is what survives a move to a new machine: weights, optimiser, LR schedule, EMA, RNG
    states, the data position and the config (``state.json``); ``imagine train --mirror DIR`` resumes from it.
    """
    mirror = Path(mirror)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    tmp = mirror.with_name(f".{mirror.name}.tmp")
    old = mirror.with_name(f".{mirror.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(checkpoint, tmp)
    _fsync_dir(tmp)
    shutil.rmtree(old, ignore_errors=True)
    if mirror.exists():
        os.replace(mirror, old)
    os.replace(tmp, mirror)
    shutil.rmtree(old, ignore_errors=True)


def save_pipeline_atomic(pipe, out: Path) -> None:
    """Save into a temp folder, move the parts in, ``model_index.json`` last (it makes the folder loadable)."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".tmp-pipeline-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    pipe.save_pretrained(tmp, safe_serialization=True)
    (out / "model_index.json").unlink(missing_ok=True)
    for part in sorted(tmp.iterdir(), key=lambda p: p.name == "model_index.json"):
        target = out / part.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(part, target)
    tmp.rmdir()


def _command_line() -> str:
    """This process's command as a user would type it (``imagine train ...``)."""
    argv = list(sys.argv)
    if argv and (argv[0].endswith("__main__.py") or Path(argv[0]).name == "imagine"):
        argv[0] = "imagine"
    return " ".join(shlex.quote(a) for a in argv)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def train(
    dataset: str | Path,
    version: int | None = None,
    config: str | Path | TrainConfig = "default",
    out: str | Path = Path("var/models/default"),
    resume: bool = True,
    *,
    data_home: Path | None = None,
    progress: bool = True,
    command: str | None = None,
    mirror: str | Path | None = None,
) -> TrainResult:
    """Train on ``dataset`` (a dataset folder or ``.lance`` table) at ``version`` (latest when None).

    Checkpoints go to ``out/train/checkpoints``; with ``resume`` (the default) a run continues
    from the newest one. On finish ``out`` is a diffusers pipeline folder with EMA weights,
    ``card.json``, ``CARD.md``, ``samples.png`` and ``loss.png``, registered in the model registry.
    ``mirror``: a folder that always holds a copy of the newest checkpoint (say, one tracked by git);
    a run whose ``out`` has no checkpoint resumes from it, so training survives a move to another machine.
    """
    cfg = load_config(config)
    trainer = Trainer(dataset, version, cfg, Path(out), data_home=data_home, progress=progress, command=command,
                      mirror=Path(mirror) if mirror is not None else None)
    if resume:
        trainer.maybe_resume()
    elif latest_checkpoint(trainer.checkpoints) is not None:
        raise FileExistsError(f"{trainer.checkpoints} holds checkpoints; pass resume=True or use a new --out")
    return trainer.run()
