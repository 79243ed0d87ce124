"""The demo platform export: determinism, schemas, and every special case the issue lists."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import imagehash
import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageOps, UnidentifiedImageError

from imagine.platform import schema
from imagine.platform.captions import uses_held_out_words
from imagine.platform.claim_codes import ALPHABET, CODES_FILE, HASHES_FILE, code_hash, normalise_code
from imagine.platform.demo import OUTPUTS, generate_demo
from imagine.platform.metadata import SIGNAL_CAWG, SIGNAL_DMI, read_training_signals
from imagine.platform.planner import EU_REGIONS
from imagine.platform.render import render_scene
from imagine.platform.scenes import Scene, is_held_out


def _all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_corpus_whatever_the_worker_count(tmp_path):
    a = generate_demo(tmp_path / "a", posts=150, seed=7, progress=False, workers=1)
    generate_demo(tmp_path / "b", posts=150, seed=7, progress=False, workers=2)
    files_a, files_b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert files_a.keys() == files_b.keys()
    # Everything but the claim codes, which are secrets: random on every run, never derived from the seed.
    assert sorted(k for k in files_a if files_a[k] != files_b[k]) == sorted([CODES_FILE, HASHES_FILE])
    assert a.posts == 150 and len([k for k in files_a if k.startswith("images/")]) == 150
    generate_demo(tmp_path / "c", posts=150, seed=8, progress=False, workers=1)
    assert (tmp_path / "c" / "posts.parquet").read_bytes() != files_a["posts.parquet"]


def test_regenerating_into_the_same_folder_replaces_the_old_corpus(tmp_path):
    generate_demo(tmp_path, posts=120, seed=1, progress=False, workers=1)
    generate_demo(tmp_path, posts=60, seed=1, progress=False, workers=1)
    assert len([p for p in (tmp_path / "images").rglob("*") if p.is_file()]) == 60
    assert not list(tmp_path.glob("*.tmp"))


def test_tables_follow_the_export_schema(corpus):
    out, _ = corpus
    for name in OUTPUTS:
        assert (out / name).is_file(), name
    for name, expected in (("posts", schema.POSTS_SCHEMA), ("owners", schema.OWNERS_SCHEMA),
                           ("scenes", schema.SCENES_SCHEMA), ("truth", schema.TRUTH_SCHEMA)):
        actual = pq.read_schema(out / f"{name}.parquet")
        assert actual.remove_metadata().equals(expected), name
    # Streamed: posts are written in several row groups once the corpus exceeds one block.
    assert pq.ParquetFile(out / "posts.parquet").metadata.num_rows == 500


def test_every_special_case_occurs(tables, corpus):
    tags = {t for row in tables["truth"].tags for t in row}
    expected = {
        "format:jpeg", "format:png", "format:webp", "exif_orientation", "grayscale", "cmyk", "alpha",
        "truncated", "zero_byte", "not_an_image", "exact_duplicate", "near_duplicate:reencoded",
        "near_duplicate:resized", "near_duplicate:cropped", "repost_other_owner", SIGNAL_DMI, SIGNAL_CAWG,
        "caption:empty", "caption:hashtags", "caption:emoji", "caption:mention", "caption:url",
        "caption:lang:es", "caption:lang:fr", "caption:lang:de", "caption:lang:ja", "deleted",
        "minor_owner", "owner_opted_out", "owner_deleted",
    }
    assert expected - tags == set()
    posts, owners = tables["posts"], tables["owners"]
    assert set(posts.visibility) == {"public", "friends", "private"}
    assert posts.deleted_at.notna().any()
    assert (owners.region.isin(EU_REGIONS)).sum() >= 3 and owners.region.nunique() >= 10
    assert owners.ai_training_opt_out.any() and owners.account_deleted_at.notna().any()
    assert (2025 - owners.birth_year < 18).any()
    _, summary = corpus
    assert summary.corrupt_files >= 3 and summary.duplicate_groups >= 4 and summary.reserved_by_metadata >= 2
    sizes = {Image.open(io.BytesIO(b)).size for b in _sample_images(corpus[0], tables, "format:png", 20)}
    assert len({round(w / h, 2) for w, h in sizes}) >= 3, "varied aspect ratios"


def _sample_images(out: Path, tables, tag: str, n: int) -> list[bytes]:
    rows = tables["merged"][tables["merged"].tags.apply(lambda t: tag in t and not {"truncated", "zero_byte", "not_an_image"} & set(t))]
    return [(out / uri).read_bytes() for uri in rows.image_uri[:n]]


def _rows(tables, tag: str):
    merged = tables["merged"]
    return merged[merged.tags.apply(lambda t: tag in t)]


def _close(a: Image.Image, b: Image.Image, tolerance: float = 12.0) -> bool:
    diff = np.abs(np.asarray(a.convert("RGB"), np.float32) - np.asarray(b.convert("RGB"), np.float32))
    return a.size == b.size and float(diff.mean()) < tolerance


def test_images_show_their_ground_truth_scene(corpus, tables):
    out, _ = corpus
    merged = tables["merged"]
    plain = merged[merged.tags.apply(lambda t: not ({"truncated", "zero_byte", "not_an_image", "grayscale", "cmyk"} & set(t)))]
    for row in plain.head(40).itertuples():
        image = ImageOps.exif_transpose(Image.open(out / row.image_uri))
        expected = render_scene(Scene.from_json(row.scene_json), *image.size)
        assert _close(image, expected), row.post_id


def test_exif_orientation_stores_rotated_pixels_that_display_upright(corpus, tables):
    out, _ = corpus
    rows = _rows(tables, "exif_orientation")
    assert len(rows) >= 1
    for row in rows.itertuples():
        stored = Image.open(out / row.image_uri)
        orientation = stored.getexif().get(0x0112)
        assert orientation in (2, 3, 6, 8)
        upright = ImageOps.exif_transpose(stored)
        expected = render_scene(Scene.from_json(row.scene_json), *upright.size)
        assert _close(upright, expected)
        assert not _close(stored.convert("RGB").resize(upright.size), expected, tolerance=3.0)


@pytest.mark.parametrize("tag, mode", [("grayscale", "L"), ("cmyk", "CMYK"), ("alpha", "RGBA")])
def test_colour_modes(corpus, tables, tag, mode):
    out, _ = corpus
    rows = _rows(tables, tag)
    assert len(rows) >= 1
    for row in rows.itertuples():
        image = Image.open(out / row.image_uri)
        assert image.mode == mode
    if mode == "RGBA":
        alpha = np.asarray(image)[..., 3]
        assert alpha.min() == 0 and alpha.max() == 255


@pytest.mark.parametrize("tag", ["truncated", "zero_byte", "not_an_image"])
def test_corrupt_files_do_not_decode(corpus, tables, tag):
    out, _ = corpus
    rows = _rows(tables, tag)
    assert len(rows) >= 1
    for row in rows.itertuples():
        data = (out / row.image_uri).read_bytes()
        if tag == "zero_byte":
            assert data == b""
        with pytest.raises((UnidentifiedImageError, OSError, SyntaxError)):
            with Image.open(io.BytesIO(data)) as image:
                image.load()


def test_duplicates(corpus, tables):
    out, _ = corpus
    merged = tables["merged"].set_index("post_id")
    for row in _rows(tables, "exact_duplicate").itertuples():
        assert (out / row.image_uri).read_bytes() == (out / merged.loc[row.duplicate_of, "image_uri"]).read_bytes()
    for tag in ("near_duplicate:reencoded", "near_duplicate:resized", "near_duplicate:cropped"):
        rows = _rows(tables, tag)
        assert len(rows) >= 1, tag
        for row in rows.itertuples():
            copy = ImageOps.exif_transpose(Image.open(out / row.image_uri)).convert("RGB")
            original = ImageOps.exif_transpose(Image.open(out / merged.loc[row.duplicate_of, "image_uri"])).convert("RGB")
            assert (out / row.image_uri).read_bytes() != (out / merged.loc[row.duplicate_of, "image_uri"]).read_bytes()
            distance = imagehash.phash(copy) - imagehash.phash(original)
            assert distance <= 20, (tag, distance)
            # The ground truth follows the copy (a crop moves the boxes).
            assert _close(copy, render_scene(Scene.from_json(row.scene_json), *copy.size), tolerance=15.0)
    for row in _rows(tables, "repost_other_owner").itertuples():
        assert row.owner_id != merged.loc[row.duplicate_of, "owner_id"]


def test_do_not_train_metadata_is_embedded_and_readable(corpus, tables):
    out, _ = corpus
    for row in tables["merged"].itertuples():
        data = (out / row.image_uri).read_bytes()
        expected = {t for t in row.tags if t in (SIGNAL_DMI, SIGNAL_CAWG)}
        assert set(read_training_signals(data)) == expected, row.post_id
    dmi = _rows(tables, SIGNAL_DMI).iloc[0]
    raw = (out / dmi.image_uri).read_bytes()
    assert b"http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED" in raw


def test_held_out_combinations_and_words_never_appear(tables):
    for text in tables["scenes"].scene_json:
        assert not is_held_out(Scene.from_json(text)), text
    for caption in tables["posts"].caption.dropna():
        assert uses_held_out_words(caption) == [], caption


def test_captions_read_like_people_write(tables):
    captions = tables["posts"].caption
    assert captions.isna().any() and (captions == "").any()
    non_empty = captions.dropna()[captions.dropna() != ""]
    assert non_empty.nunique() > 0.8 * len(non_empty)
    assert non_empty.str.contains("#").any() and non_empty.str.contains("@").any() and non_empty.str.contains("https?://").any()
    assert non_empty.str.contains("[\u3040-\u30ff\u4e00-\u9fff]").any(), "Japanese"


def test_event_log(corpus, tables):
    out, summary = corpus
    events = list(schema.read_events(out / "events.jsonl"))
    assert {e["type"] for e in events} == set(schema.EVENT_TYPES)
    last_post = tables["posts"].created_at.max().to_pydatetime()
    times = [datetime.fromisoformat(e["ts"]) for e in events]
    assert times == sorted(times) and min(times) > last_post
    assert len({e["event_id"] for e in events}) == len(events)
    post_ids = set(tables["posts"].post_id)
    assert all(e["post_id"] in post_ids for e in events if e["post_id"] is not None)
    assert sum(summary.events.values()) == len(events)


def test_claim_codes_cover_every_owner(corpus, tables):
    out, _ = corpus
    codes = json.loads((out / CODES_FILE).read_text())
    assert set(codes) == set(tables["owners"].owner_id)
    assert len(set(codes.values())) == len(codes)
    assert set(tables["posts"].owner_id) <= set(codes)
    # The operator's copy is private; the service's copy holds hashes only.
    assert (out / CODES_FILE).stat().st_mode & 0o777 == 0o600
    hashes = json.loads((out / HASHES_FILE).read_text())
    assert hashes == {owner: code_hash(code) for owner, code in codes.items()}
    assert not set(codes.values()) & set(hashes.values())
    assert all(len(normalise_code(c)) == 16 and set(normalise_code(c)) <= set(ALPHABET) for c in codes.values())
