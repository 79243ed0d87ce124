"""A small hand-made platform corpus (posts/owners/events per docs/interfaces.md) with every special case.

Each special post's expected decision is recorded in ``Corpus.expect`` so tests can check them.
"""

from __future__ import annotations

import io
import json
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw, PngImagePlugin

UTC = timezone.utc
T0 = datetime(2024, 1, 1, tzinfo=UTC)
POSTS_SCHEMA = pa.schema([("post_id", pa.string()), ("owner_id", pa.string()), ("image_uri", pa.string()),
                          ("caption", pa.string()), ("visibility", pa.string()),
                          ("created_at", pa.timestamp("us", tz="UTC")), ("deleted_at", pa.timestamp("us", tz="UTC"))])
OWNERS_SCHEMA = pa.schema([("owner_id", pa.string()), ("region", pa.string()), ("birth_year", pa.int16()),
                           ("ai_training_opt_out", pa.bool_()), ("created_at", pa.timestamp("us", tz="UTC")),
                           ("account_deleted_at", pa.timestamp("us", tz="UTC"))])
COLOURS = [(220, 30, 30), (30, 80, 230), (30, 170, 50), (250, 220, 20), (140, 50, 200), (255, 140, 0)]

XMP_PROHIBITED = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" '
    'plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"/></rdf:RDF></x:xmpmeta>')


def scene_image(i: int, size: int = 96) -> Image.Image:
    """A distinct picture per ``i``: gradient background + a few shapes placed by i."""
    img = Image.new("RGB", (size, size))
    d = ImageDraw.Draw(img)
    top = COLOURS[i % 6]
    for y in range(size):
        t = y / size
        d.line([(0, y), (size, y)], fill=tuple(int(c * (1 - t) + 255 * t * ((i >> 3) % 2)) for c in top))
    for k in range(3):
        x = (i * 37 + k * 29) % (size - 24)
        y = (i * 53 + k * 41) % (size - 24)
        col = COLOURS[(i + k + 1) % 6]
        if (i + k) % 2:
            d.ellipse([x, y, x + 22, y + 22], fill=col)
        else:
            d.rectangle([x, y, x + 20, y + 20], fill=col)
    return img


def jpeg_bytes(img: Image.Image, quality: int = 90, exif=None) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return buf.getvalue()


def png_bomb() -> bytes:
    """A valid-looking PNG header claiming 30000x30000 pixels (about 2.7 GB decoded)."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", 30000, 30000) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


@dataclass
class Corpus:
    root: Path
    manifest: Path
    owners: Path
    events: Path
    expect: dict[str, str] = field(default_factory=dict)  # post_id -> expected reason
    duplicate_groups: list[list[str]] = field(default_factory=list)


def make_corpus(root: Path, n_plain: int = 24) -> Corpus:
    """Write a small platform export under ``root``; see the module docstring."""
    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    posts, owners, expect = [], [], {}
    owner_rows = {
        "o_ok": ("FR", 1980, False, None), "o_ok2": ("US", 1975, False, None), "o_optout": ("DE", 1970, True, None),
        "o_minor": ("GB", T0.year + 2 - 15, False, None), "o_region": ("XX", 1980, False, None),
        "o_gone": ("US", 1985, False, T0 + timedelta(days=30)),
    }
    for oid, (region, by, opt_out, deleted) in owner_rows.items():
        owners.append({"owner_id": oid, "region": region, "birth_year": by, "ai_training_opt_out": opt_out,
                       "created_at": T0 - timedelta(days=400), "account_deleted_at": deleted})

    def post(pid: str, data: bytes, *, owner: str = "o_ok", caption: str | None = "a red circle above a tree",
             visibility: str = "public", deleted: bool = False, reason: str = "included", ext: str = "jpg") -> None:
        rel = f"images/{pid}.{ext}"
        (root / rel).write_bytes(data)
        idx = len(posts)
        posts.append({"post_id": pid, "owner_id": owner, "image_uri": rel, "caption": caption,
                      "visibility": visibility, "created_at": T0 + timedelta(hours=idx),
                      "deleted_at": T0 + timedelta(days=3) if deleted else None})
        expect[pid] = reason

    for i in range(n_plain):
        post(f"p{i:03d}", jpeg_bytes(scene_image(i)), owner="o_ok" if i % 2 else "o_ok2",
             caption=f"shape number {i} on a sunny day #RedCar #instagood @friend")
    post("x_private", jpeg_bytes(scene_image(100)), visibility="private", reason="not_public")
    post("x_friends", jpeg_bytes(scene_image(101)), visibility="friends", reason="not_public")
    post("x_deleted", jpeg_bytes(scene_image(102)), deleted=True, reason="deleted")
    post("x_optout", jpeg_bytes(scene_image(103)), owner="o_optout", reason="owner_opted_out")
    post("x_minor", jpeg_bytes(scene_image(104)), owner="o_minor", reason="owner_minor")
    post("x_region", jpeg_bytes(scene_image(105)), owner="o_region", reason="region_excluded")
    post("x_account", jpeg_bytes(scene_image(106)), owner="o_gone", reason="account_deleted")
    post("x_notimage", b"this is not an image at all", reason="not_an_image")
    post("x_truncated", jpeg_bytes(scene_image(107), quality=95)[:1500], reason="truncated")
    post("x_bomb", png_bomb(), reason="decompression_bomb", ext="png")
    post("x_small", jpeg_bytes(scene_image(108, size=20)), reason="too_small")
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", XMP_PROHIBITED)
    buf = io.BytesIO()
    scene_image(109).save(buf, "PNG", pnginfo=info)
    post("x_xmp", buf.getvalue(), reason="reserved_by_metadata", ext="png")
    jpeg = jpeg_bytes(scene_image(110))
    # A C2PA-looking JUMBF store whose training-mining assertion says notAllowed (unsigned: raw check).
    c2pa_blob = b"jumb\x00c2pa\x00cawg.training-mining\x00entries\x00cawg.ai_generative_training\x00use\x00notAllowed"
    app11 = b"\xff\xeb" + struct.pack(">H", len(c2pa_blob) + 2) + c2pa_blob
    post("x_c2pa", jpeg[:2] + app11 + jpeg[2:], reason="reserved_by_metadata")
    post("x_missing", b"", reason="fetch_failed")
    (root / "images/x_missing.jpg").unlink()
    post("x_french", jpeg_bytes(scene_image(111)), caption="un cercle rouge sur la plage avec le soleil",
         reason="caption_not_english")
    # Duplicates: exact copy of p001 (later post) and a re-encoded copy of p002.
    post("y_exact", (root / "images/p001.jpg").read_bytes(), reason="duplicate_of")
    post("y_near", jpeg_bytes(scene_image(2), quality=70), reason="duplicate_of")
    # EXIF orientation 6 (rotate 90° CW to display) on an included post.
    exif = Image.Exif()
    exif[0x0112] = 6
    post("z_rotated", jpeg_bytes(scene_image(112, size=96).resize((96, 64)), exif=exif.tobytes()))
    post("z_nocaption", jpeg_bytes(scene_image(113)), caption=None)
    post("z_fsspec", jpeg_bytes(scene_image(114)))
    posts[-1]["image_uri"] = (root / posts[-1]["image_uri"]).resolve().as_uri()  # file:// through fsspec
    manifest, owners_path = root / "posts.parquet", root / "owners.parquet"
    pq.write_table(pa.Table.from_pylist(posts, schema=POSTS_SCHEMA), manifest)
    pq.write_table(pa.Table.from_pylist(owners, schema=OWNERS_SCHEMA), owners_path)
    events = root / "events.jsonl"
    ev = [
        {"event_id": "e1", "ts": "2024-02-01T10:00:00+00:00", "type": "post_deleted", "owner_id": "o_ok",
         "post_id": "p001", "visibility": None},
        {"event_id": "e2", "ts": "2024-02-01T11:00:00+00:00", "type": "visibility_changed", "owner_id": "o_ok2",
         "post_id": "p002", "visibility": "private"},
        {"event_id": "e3", "ts": "2024-02-01T12:00:00+00:00", "type": "visibility_changed", "owner_id": "o_ok2",
         "post_id": "p004", "visibility": "public"},
        {"event_id": "e4", "ts": "2024-02-02T09:00:00+00:00", "type": "post_opted_out", "owner_id": "o_ok",
         "post_id": "p003", "visibility": None},
    ]
    events.write_text("".join(json.dumps(e) + "\n" for e in ev))
    return Corpus(root, manifest, owners_path, events, expect, [["p001", "y_exact"], ["p002", "y_near"]])


EXCLUDE_XX_POLICY = """
[policy]
name = "test"
version = "1"
allowed_visibilities = ["public"]
min_age = 18
excluded_regions = ["XX"]
as_of = "2026-01-01"
"""


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    return make_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_text(EXCLUDE_XX_POLICY)
    return path


@pytest.fixture(scope="session")
def built(corpus, policy_file, tmp_path_factory):
    """One build of the corpus as of the manifest snapshot (events not read), shared by read-only tests."""
    from imagine.dataset.build import build_dataset

    out = tmp_path_factory.mktemp("ds") / "demo"
    report = build_dataset(corpus.manifest, corpus.owners, policy_file, out, export_events=False, progress=False)
    return out, report


def crop(img: Image.Image, keep: float, seed: int) -> Image.Image:
    rng = random.Random(seed)
    w, h = img.size
    cw, ch = round(w * keep), round(h * keep)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    return img.crop((x, y, x + cw, y + ch))


@pytest.fixture()
def reposted(tmp_path):
    """The test corpus plus a 20%-cropped re-post of p005 by another owner, and p005 deleted later."""
    c = make_corpus(tmp_path / "corpus")
    original = scene_image(5)
    (c.root / "images/r_crop.jpg").write_bytes(jpeg_bytes(crop(original, 0.8, 1).resize((80, 80))))
    posts = pq.read_table(c.manifest)
    extra = pa.Table.from_pylist([{"post_id": "r_crop", "owner_id": "o_ok2", "image_uri": "images/r_crop.jpg",
                                   "caption": "found this on the web", "visibility": "public",
                                   "created_at": T0 + timedelta(days=2), "deleted_at": None}], schema=posts.schema)
    pq.write_table(pa.concat_tables([posts, extra]), c.manifest)
    with c.events.open("a") as fh:
        fh.write(json.dumps({"event_id": "e5", "ts": "2024-02-03T09:00:00+00:00", "type": "post_deleted",
                             "owner_id": "o_ok", "post_id": "p005", "visibility": None}) + "\n")
    return c, original


@pytest.fixture()
def pictures():
    """(scene_image, jpeg_bytes, crop) for tests that make their own copies."""
    return scene_image, jpeg_bytes, crop
