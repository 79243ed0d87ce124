"""Tiny random pipelines saved to disk once per session: one SD-shaped (CLIP + VAE), one ImaginePipeline."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory):
    from imagine.model.tiny_sd import save_tiny_sd

    return save_tiny_sd(tmp_path_factory.mktemp("tiny-sd") / "model")


@pytest.fixture(scope="session")
def tiny_imagine_dir(tmp_path_factory):
    from imagine.model.factory import tiny_pipeline

    out = tmp_path_factory.mktemp("tiny-imagine") / "model"
    tiny_pipeline(resolution=32, seed=0).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def sd_generator(tiny_sd_dir):
    from imagine.generate.core import Generator

    return Generator.load(tiny_sd_dir, device="cpu")


@pytest.fixture(scope="session")
def imagine_generator(tiny_imagine_dir):
    from imagine.generate.core import Generator

    return Generator.load(tiny_imagine_dir, device="cpu")


@pytest.fixture(scope="session")
def tiny_lance_dataset(tmp_path_factory):
    """A dataset folder whose images.lance holds 16 rendered demo scenes (PNG bytes + caption), like the dataset stage writes."""
    import hashlib
    import io
    import random

    import lance
    import pyarrow as pa

    from imagine.platform.render import render_scene
    from imagine.platform.scenes import sample_scene

    rng = random.Random(0)
    rows = {"post_id": [], "image": [], "caption": [], "sha256": []}
    for i in range(16):
        scene = sample_scene(rng, held_out=False)
        buf = io.BytesIO()
        render_scene(scene, 64).save(buf, format="PNG")
        data = buf.getvalue()
        obj = scene.objects[0]
        rows["post_id"].append(f"p{i}")
        rows["image"].append(data)
        rows["caption"].append(f"a {obj.colour} {obj.kind} on {scene.background}")
        rows["sha256"].append(hashlib.sha256(data).hexdigest())
    folder = tmp_path_factory.mktemp("dataset") / "demo"
    folder.mkdir()
    table = pa.table({
        "post_id": pa.array(rows["post_id"]), "image": pa.array(rows["image"], pa.binary()),
        "caption": pa.array(rows["caption"]), "sha256": pa.array(rows["sha256"]),
    })
    lance.write_dataset(table, str(folder / "images.lance"))
    return folder
