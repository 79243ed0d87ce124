"""Pictures written during training: the validation sample grid and the loss curve (PNG, atomic)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from imagine.atomic import atomic_write


def _atomic_save(image: Image.Image, path: Path) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    atomic_write(path, buffer.getvalue())


def sample_grid(rows: list[list[Image.Image]], labels: list[str], path: Path, *, scale: int = 3) -> Path:
    """One row per prompt (label on the left), images upscaled ``scale``x with nearest neighbours."""
    if not rows or not rows[0]:
        raise ValueError("sample_grid needs at least one image")
    w, h = rows[0][0].size
    cell_w, cell_h = w * scale, h * scale
    label_w = 8 + 6 * max(len(s) for s in labels)
    grid = Image.new("RGB", (label_w + cell_w * max(len(r) for r in rows), cell_h * len(rows)), "white")
    draw = ImageDraw.Draw(grid)
    for r, (images, label) in enumerate(zip(rows, labels)):
        draw.text((4, r * cell_h + cell_h // 2 - 5), label, fill="black")
        for c, img in enumerate(images):
            grid.paste(img.resize((cell_w, cell_h), Image.Resampling.NEAREST), (label_w + c * cell_w, r * cell_h))
    _atomic_save(grid, Path(path))
    return Path(path)


def loss_plot(history: list[tuple[int, float]], path: Path, *, title: str = "training loss") -> Path:
    """Raw per-step loss (faint) and its moving average against optimiser steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if history:
        steps = np.array([s for s, _ in history])
        losses = np.array([v for _, v in history])
        ax.plot(steps, losses, alpha=0.25, linewidth=0.8, label="loss")
        k = max(1, len(losses) // 30)
        if len(losses) >= k and k > 1:
            smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
            ax.plot(steps[k - 1 :], smooth, linewidth=1.6, label=f"mean of {k}")
        ax.set_yscale("log")
        ax.legend()
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("weighted MSE")
    ax.set_title(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write(path, buffer.getvalue())
    return path
