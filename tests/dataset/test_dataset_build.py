"""A real build of a small hand-made corpus: one decision per post, the right reasons, clean rows."""

from __future__ import annotations

import io
from collections import Counter

import lance
import numpy as np
import pyarrow.parquet as pq
from PIL import Image

from imagine.dataset import schema as s
from imagine.dataset.versions import list_versions, open_images
from imagine.dataset.write import read_decisions


def test_every_post_has_exactly_one_decision_with_the_expected_reason(built, corpus):
    out, report = built
    dec = read_decisions(out).to_pylist()
    posts = pq.read_table(corpus.manifest).column("post_id").to_pylist()
    assert Counter(r["post_id"] for r in dec) == Counter(posts)  # exactly one each, nobody missing
    assert {r["dataset_version"] for r in dec} == {report.version}
    got = {r["post_id"]: r["reason"] for r in dec}
    assert got == corpus.expect
    assert report.counts_by_reason == dict(Counter(corpus.expect.values()))
    for r in dec:
        assert r["included"] == (r["reason"] == s.INCLUDED)


def test_rejections_carry_details(built):
    out, _ = built
    dec = {r["post_id"]: r for r in read_decisions(out).to_pylist()}
    assert dec["y_exact"]["detail"] == "p001"  # the earlier post is kept
    assert dec["y_near"]["detail"] == "p002"
    assert "pixels" in dec["x_bomb"]["detail"]
    assert "xmp_dmi_prohibited" in dec["x_xmp"]["detail"]
    assert dec["x_c2pa"]["detail"]


def test_written_rows_are_only_included_posts_with_the_interface_columns(built, corpus):
    out, report = built
    ds = open_images(out)
    assert ds.version == report.version
    table = ds.to_table()
    assert table.schema.names[:8] == ["post_id", "owner_id", "image", "caption", "raw_caption", "sha256", "phash",
                                      "policy_version"]
    assert "caption_embedding" not in table.schema.names  # nothing reads it: not computed
    ids = table.column("post_id").to_pylist()
    assert ids == sorted(ids)
    assert set(ids) == {p for p, r in corpus.expect.items() if r == s.INCLUDED}
    for row in table.to_pylist():
        img = Image.open(io.BytesIO(row["image"]))
        assert img.format == "PNG" and img.mode == "RGB" and img.size == (64, 64)
        assert len(row["sha256"]) == 64 and len(row["phash"]) == 16
        assert row["policy_version"] == "test@1"
    by_id = {r["post_id"]: r for r in table.to_pylist()}
    assert by_id["p005"]["caption"] == "shape number 5 on a sunny day red car"
    assert by_id["p005"]["raw_caption"].endswith("@friend")
    assert by_id["z_nocaption"]["caption"] == ""


def test_exif_orientation_is_applied(built, corpus):
    out, _ = built
    row = open_images(out).to_table(filter="post_id = 'z_rotated'").to_pylist()[0]
    # The stored file is 96x64 landscape with orientation 6: displayed, it is portrait 64x96, so the
    # centre-crop keeps the middle band of the *rotated* picture.
    from imagine.dataset.transform import transform_image

    raw = Image.open(corpus.root / "images/z_rotated.jpg")
    upright = transform_image(raw.transpose(Image.Transpose.ROTATE_270).convert("RGB"), 64)
    unrotated = transform_image(raw.convert("RGB"), 64)
    stored = np.asarray(Image.open(io.BytesIO(row["image"])), dtype=np.float32)
    assert np.abs(stored - np.asarray(upright, np.float32)).mean() < np.abs(stored - np.asarray(unrotated, np.float32)).mean()


def test_indices_card_and_commit_log(built):
    out, report = built
    ds = lance.dataset(str(out / "images.lance"))
    names = {i["name"] for i in ds.list_indices()}
    assert {"post_id_idx", "owner_id_idx"} <= names
    assert [v.version for v in list_versions(out)] == [report.version]
    assert f"v{report.version}" in ds.tags.list()
    card = (report.card_dir / "card.json").read_text()
    assert '"manifest"' in card and '"counts_by_reason"' in card and "test@1" in card
    assert "| included |" in (report.card_dir / "CARD.md").read_text()


def test_same_inputs_give_same_rows(built, corpus, policy_file, tmp_path):
    from imagine.dataset.build import build_dataset

    out, _ = built
    again = build_dataset(corpus.manifest, corpus.owners, policy_file, tmp_path / "again", export_events=False,
                          progress=False)
    assert open_images(out).to_table().equals(open_images(again.dataset_dir).to_table())


def test_process_pool_gives_the_same_rows(built, corpus, policy_file, tmp_path):
    from imagine.dataset.build import build_dataset

    out, _ = built
    pooled = build_dataset(corpus.manifest, corpus.owners, policy_file, tmp_path / "pool", workers=2,
                           batch_size=8, export_events=False, progress=False)
    a = open_images(out).to_table(columns=["post_id", "image", "sha256", "phash", "caption"])
    b = open_images(pooled.dataset_dir).to_table(columns=["post_id", "image", "sha256", "phash", "caption"])
    assert a.equals(b)
