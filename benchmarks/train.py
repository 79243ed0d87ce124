"""Training throughput: our loop (imagine.model.train.Trainer) vs a bare PyTorch loop, same model and batch.

    .venv/bin/python benchmarks/train.py [--config default] [--steps 8] [--rounds 3]

Both loops train the same UNet shape on batches of the same size in the same process. Ours
reads rows from a real Lance table, looks up cached MiniLM states, does caption dropout,
Min-SNR weighting, clipping, LR schedule and EMA; the bare loop trains on one pre-made
batch in memory with plain AdamW. Rounds alternate (ours, bare, ours, ...) so a busy shared
CPU slows both alike. Prints samples/s of each and the ratio (goal >= 0.9).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def bare_loop(cfg, batch_size: int):
    """A closure doing one plain diffusion training step on fixed in-memory tensors."""
    import torch

    from imagine.model.factory import build_denoiser, training_scheduler

    torch.manual_seed(0)
    unet = build_denoiser(cfg.model).train()
    sched = training_scheduler(cfg.model)
    opt = torch.optim.AdamW(unet.parameters(), lr=cfg.train.learning_rate)
    x0 = torch.rand(batch_size, 3, cfg.model.resolution, cfg.model.resolution) * 2 - 1
    states = torch.randn(batch_size, 20, 384)
    mask = torch.ones(batch_size, 20, dtype=torch.int64)

    def step() -> None:
        noise = torch.randn_like(x0)
        t = torch.randint(0, cfg.model.num_train_timesteps, (batch_size,))
        pred = unet(sched.add_noise(x0, noise, t), t, encoder_hidden_states=states, encoder_attention_mask=mask).sample
        loss = (pred - noise).pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default")
    parser.add_argument("--steps", type=int, default=8, help="steps per round and loop")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=512)
    args = parser.parse_args(argv)

    import torch

    from imagine.model.synthetic import write_scene_dataset
    from imagine.model.train import Trainer
    from imagine.model.train_config import load_config

    cfg = load_config(args.config)
    if cfg.train.num_threads > 0:
        torch.set_num_threads(cfg.train.num_threads)
    batch = cfg.data.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        write_scene_dataset(Path(tmp) / "d", rows=args.rows, seed=0)
        trainer = Trainer(Path(tmp) / "d", None, cfg, Path(tmp) / "m", data_home=Path(tmp) / "h", progress=False,
                          command="benchmark")
        bare = bare_loop(cfg, batch)
        trainer.train_step(), bare()  # warm-up: allocator, kernels, first Lance read
        ours_rates, bare_rates = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            for _ in range(args.steps):
                trainer.train_step()
            ours_rates.append(args.steps * batch / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for _ in range(args.steps):
                bare()
            bare_rates.append(args.steps * batch / (time.perf_counter() - t0))
    ours, plain = statistics.median(ours_rates), statistics.median(bare_rates)
    ratio = ours / plain
    print(f"config={cfg.name} batch={batch} threads={torch.get_num_threads()} steps/round={args.steps} rounds={args.rounds}")
    print(f"ours: {ours:.2f} samples/s  (rounds: {', '.join(f'{r:.2f}' for r in ours_rates)})")
    print(f"bare: {plain:.2f} samples/s  (rounds: {', '.join(f'{r:.2f}' for r in bare_rates)})")
    print(f"ratio ours/bare: {ratio:.3f}  (goal >= 0.9)")
    return ratio


if __name__ == "__main__":
    main(sys.argv[1:])
