"""Copy a trained model folder's pipeline, card and pictures somewhere else (e.g. the shipped default).

Why not ``cp -r``: a model folder also holds ``train/`` (checkpoints, caches: hundreds of MB);
only the loadable pipeline and its card belong in a published copy. The copy is assembled
in a temp folder next to ``dest`` and swapped in, so readers never see half a model.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PIPELINE_PARTS = ("model_index.json", "unet", "scheduler", "text_encoder", "tokenizer")
EXTRAS = ("card.json", "CARD.md", "samples.png", "loss.png")


def publish_model(model_dir: Path, dest: Path) -> Path:
    """Replace ``dest`` with the pipeline parts and card of ``model_dir``; returns ``dest``."""
    model_dir, dest = Path(model_dir), Path(dest)
    missing = [p for p in PIPELINE_PARTS if not (model_dir / p).exists()]
    if missing:
        raise FileNotFoundError(f"{model_dir} is not a finished model folder: missing {', '.join(missing)}")
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in PIPELINE_PARTS + EXTRAS:
        src = model_dir / name
        if src.is_dir():
            shutil.copytree(src, tmp / name)
        elif src.is_file():
            shutil.copy2(src, tmp / name)
    old = dest.with_name(f".{dest.name}.old{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(tmp, dest)
    shutil.rmtree(old, ignore_errors=True)
    return dest
