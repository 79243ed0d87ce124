"""Training rows streamed from a Lance dataset version, in a resumable deterministic order.

Why no DataLoader: the order of rows is a pure function of ``(seed, epoch)`` and the position
is a pure function of the micro-batch counter, so a resumed run reads exactly the rows an
uninterrupted run would have read, and every process of a data-parallel run takes its own
slice of the same global batch. Only the captions live in memory; image bytes are fetched
per batch with ``LanceDataset.take``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from imagine.dataset.recaption import COLUMN as DESCRIPTIVE

IMAGES_TABLE = "images.lance"


def resolve_images_uri(dataset: str | Path) -> str:
    """``DATASET`` may be a dataset folder (holding ``images.lance``) or the ``.lance`` table itself."""
    text = str(dataset)
    if "://" in text:
        return text if text.rstrip("/").endswith(".lance") else text.rstrip("/") + "/" + IMAGES_TABLE
    path = Path(dataset)
    if (path / IMAGES_TABLE).is_dir():
        return str((path / IMAGES_TABLE).resolve())
    if path.suffix == ".lance" and path.is_dir():
        return str(path.resolve())
    raise FileNotFoundError(f"{dataset} is neither a dataset folder with {IMAGES_TABLE} nor a .lance table")


@dataclass(frozen=True)
class Position:
    """Where the stream stands: epoch and index (in that epoch's order) of the next row."""

    epoch: int
    offset: int


class LanceImageStream:
    """Rows of one version of ``images.lance`` as ``uint8 [B, 3, R, R]`` tensors and captions."""

    def __init__(self, dataset: str | Path, version: int | None, *, resolution: int, seed: int) -> None:
        import lance

        self.uri = resolve_images_uri(dataset)
        self.ds = lance.dataset(self.uri, version=version)
        self.version = int(self.ds.version)
        self.resolution = resolution
        self.seed = seed
        names = set(self.ds.schema.names)
        columns = ["caption", "sha256"] + ([DESCRIPTIVE] if DESCRIPTIVE in names else [])
        table = self.ds.to_table(columns=columns)
        self.captions: list[str] = [c or "" for c in table.column("caption").to_pylist()]
        # The recaption stage's caption per row (None: the dataset has none for it).
        self.descriptive: list[str | None] = (table.column(DESCRIPTIVE).to_pylist() if DESCRIPTIVE in names
                                              else [None] * len(self.captions))
        self._sha = table.column("sha256").to_pylist()
        if not self.captions:
            raise ValueError(f"{self.uri} version {self.version} has no rows to train on")

    def __len__(self) -> int:
        return len(self.captions)

    def digest(self) -> str:
        """sha256 over (row sha256, caption[, descriptive caption]) in row order: what exactly this model saw."""
        h = hashlib.sha256()
        for sha, cap, desc in zip(self._sha, self.captions, self.descriptive):
            h.update((f"{sha}\t{cap}\n" if desc is None else f"{sha}\t{cap}\t{desc}\n").encode())
        return h.hexdigest()

    def order(self, epoch: int) -> np.ndarray:
        """The row order of ``epoch``: a permutation seeded by ``(seed, epoch)``."""
        return np.random.default_rng([self.seed, epoch]).permutation(len(self))

    def position(self, micro_batch: int, global_batch: int) -> Position:
        """Position after ``micro_batch`` global micro-batches (incomplete epoch tails are dropped)."""
        per_epoch = len(self) // global_batch
        if per_epoch == 0:
            raise ValueError(f"dataset has {len(self)} rows, fewer than one global batch of {global_batch}")
        return Position(micro_batch // per_epoch, (micro_batch % per_epoch) * global_batch)

    def indices(self, micro_batch: int, global_batch: int, rank: int, batch_size: int) -> np.ndarray:
        """Row indices of this process's share of global micro-batch number ``micro_batch``."""
        pos = self.position(micro_batch, global_batch)
        start = pos.offset + rank * batch_size
        return self.order(pos.epoch)[start : start + batch_size]

    def fetch(self, indices: np.ndarray) -> tuple[torch.Tensor, list[int]]:
        """Decoded images ``uint8 [B, 3, R, R]`` (box-downsampled when stored larger) and row ids."""
        table = self.ds.take(sorted(int(i) for i in indices), columns=["image"])
        by_row = dict(zip(sorted(int(i) for i in indices), table.column("image").to_pylist()))
        arrays = [decode_image(by_row[int(i)], self.resolution) for i in indices]
        return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous(), [int(i) for i in indices]


def decode_image(data: bytes, resolution: int) -> np.ndarray:
    """PNG bytes -> ``uint8 [R, R, 3]``; BOX filter keeps thin shapes' colours when downsampling."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        if img.size != (resolution, resolution):
            img = img.resize((resolution, resolution), Image.Resampling.BOX)
        return np.asarray(img, dtype=np.uint8)


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """``uint8 [0, 255]`` -> ``float [-1, 1]``."""
    return images.float() / 127.5 - 1.0
