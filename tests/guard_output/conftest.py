"""Fixtures for the output checks, provenance and verifier: real rendered scenes, a real images.lance."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image


def render(seed: int, size: int = 32) -> Image.Image:
    """A demo-platform scene rendered at ``size`` px (the shipped model's outputs look like these)."""
    from imagine.platform.render import render_scene
    from imagine.platform.scenes import sample_scene

    return render_scene(sample_scene(random.Random(seed), held_out=None), size)


@pytest.fixture(scope="session")
def helpers():
    """The helper functions above, for test modules (conftest is not importable under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(render=render, png_chunks=png_chunks, build_png=build_png)


@pytest.fixture()
def settings(data_home):
    """Settings wired to a fresh data home (its own dev CA and ledger)."""
    from imagine.config import get_settings

    return get_settings()


@pytest.fixture()
def info():
    from imagine.guard.metadata import GenerationInfo

    return GenerationInfo(prompt="a red car, left of a tree: sunny", model_id="imagine-test", seed=7,
                          steps=12, guidance=4.5, sampler="dpmpp", negative_prompt="blurry")


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of every chunk of a PNG file."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def build_png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = [b"\x89PNG\r\n\x1a\n"]
    for kind, body in chunks:
        out.append(struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    return b"".join(out)


@pytest.fixture()
def training_set(tmp_path) -> tuple[Path, dict[str, Image.Image]]:
    """A committed images.lance of 40 rendered scenes (64 px, as the dataset stage stores them)."""
    import io

    import imagehash
    import lance
    import pyarrow as pa

    from imagine.dataset.versions import VersionInfo, commit_version, now_utc

    images = {f"post-{i:03d}": render(1000 + i, 64) for i in range(40)}
    blobs = []
    for img in images.values():
        buf = io.BytesIO()
        img.save(buf, "PNG")
        blobs.append(buf.getvalue())
    table = pa.table({
        "post_id": list(images),
        "owner_id": [f"owner-{i % 7}" for i in range(len(images))],
        "image": pa.array(blobs, pa.binary()),
        "phash": [str(imagehash.phash(img)) for img in images.values()],
    })
    dataset_dir = tmp_path / "dataset"
    ds = lance.write_dataset(table, str(dataset_dir / "images.lance"))
    commit_version(dataset_dir, VersionInfo(version=ds.version, kind="build", created_at=now_utc().isoformat(),
                                            rows=len(images), policy_version="test", card=""))
    return dataset_dir, images
