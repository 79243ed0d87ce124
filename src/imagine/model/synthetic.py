"""A scene corpus written straight to a Lance table with the dataset stage's ``images.lance`` columns.

Why: the model's tests (and a fallback corpus when no dataset build is at hand) need real
Lance rows of real rendered scenes without running the consent pipeline. Every row is a
fresh, non-held-out scene from ``imagine.platform``; there is no consent filtering here, so
a model trained on this is for tests and smoke runs, never shipped as trained on users' posts.
"""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import numpy as np


def write_scene_dataset(out: Path, rows: int = 64, seed: int = 0, *, resolution: int = 64, mode: str = "create",
                        descriptive: bool = False) -> int:
    """Write ``rows`` scenes to ``out/images.lance`` (``mode="append"`` adds a new version); returns the version.

    ``descriptive``: also the recaption stage's column, written by the demo captioner from the pixels.
    """
    import imagehash
    import lance
    import pyarrow as pa
    from PIL import Image

    from imagine.platform.captions import describe_scene
    from imagine.platform.render import render_scene
    from imagine.platform.scenes import sample_scene

    rng = random.Random(seed)
    records: dict[str, list] = {k: [] for k in (
        "post_id", "owner_id", "image", "caption", "raw_caption", "caption_embedding", "sha256", "phash", "policy_version")}
    for i in range(rows):
        scene = sample_scene(rng, held_out=False)
        image: Image.Image = render_scene(scene, resolution)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        data = buf.getvalue()
        caption = describe_scene(scene, rng, style="casual")
        records["post_id"].append(f"s{seed}-{i:06d}")
        records["owner_id"].append(f"o{seed}-{i % 17:03d}")
        records["image"].append(data)
        records["caption"].append(caption)
        records["raw_caption"].append(caption)
        records["caption_embedding"].append(_fake_embedding(caption))
        records["sha256"].append(hashlib.sha256(data).hexdigest())
        records["phash"].append(str(imagehash.phash(image)))
        records["policy_version"].append("synthetic")
    extra = {}
    if descriptive:
        from imagine.dataset.recaption import COLUMN, SceneCheckerCaptioner

        images = [Image.open(io.BytesIO(b)).convert("RGB") for b in records["image"]]
        extra[COLUMN] = pa.array(SceneCheckerCaptioner().describe(images), pa.string())
    table = pa.table({
        **{k: v for k, v in records.items() if k not in ("image", "caption_embedding")},
        "image": pa.array(records["image"], pa.binary()),
        "caption_embedding": pa.FixedSizeListArray.from_arrays(
            pa.array(np.concatenate(records["caption_embedding"]), pa.float32()), 384),
        **extra,
    })
    uri = str(Path(out) / "images.lance")
    Path(out).mkdir(parents=True, exist_ok=True)
    ds = lance.write_dataset(table, uri, mode=mode)
    return int(ds.version)


def _fake_embedding(caption: str) -> np.ndarray:
    """A deterministic unit vector standing in for the MiniLM sentence embedding (the trainer never reads it)."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(caption.encode()).digest()[:8], "little"))
    v = rng.standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)
