"""Copies of a revoked photo - cropped or not, by its owner or anyone else - leave with it; lookup
finds a cropped copy."""

from __future__ import annotations

from imagine.dataset.events import apply_events
from imagine.dataset.lookup import lookup_image
from imagine.dataset.purge import purge
from imagine.dataset.versions import open_images
from imagine.dataset.write import read_decisions


def test_apply_events_and_purge_remove_a_cropped_repost_by_someone_else(reposted, policy_file, tmp_path):
    from imagine.dataset.build import build_dataset

    c, original = reposted
    out = tmp_path / "ds"
    build_dataset(c.manifest, c.owners, policy_file, out, export_events=False, progress=False)
    rows = set(open_images(out).to_table(columns=["post_id"]).column(0).to_pylist())
    assert {"p005", "r_crop"} <= rows  # a 20% crop is not a phash duplicate: both were kept
    applied = apply_events(out, c.events, policy=policy_file)
    dec = {r["post_id"]: r for r in read_decisions(out, filter=f"dataset_version = {applied.version}").to_pylist()}
    assert dec["r_crop"]["reason"] == "revoked_by_event"
    assert dec["r_crop"]["detail"] == "post_deleted:e5:near_duplicate_of:p005"
    assert dec["p010"]["reason"] == "included"
    result = purge(out)
    assert result.proof.erased
    rows = set(open_images(out).to_table(columns=["post_id"]).column(0).to_pylist())
    assert not {"p005", "r_crop"} & rows and "p010" in rows


def test_policy_can_keep_copies(reposted, tmp_path):
    from imagine.dataset.build import build_dataset

    c, _ = reposted
    pol = tmp_path / "p.toml"
    pol.write_text('[policy]\nname = "t"\nversion = "1"\nas_of = "2026-01-01"\nexcluded_regions = ["XX"]\n'
                   "[revocation]\nnear_duplicates = false\n")
    out = tmp_path / "ds"
    build_dataset(c.manifest, c.owners, pol, out, export_events=False, progress=False)
    apply_events(out, c.events, policy=pol)
    rows = set(open_images(out).to_table(columns=["post_id"]).column(0).to_pylist())
    assert "r_crop" in rows and "p005" not in rows


def test_default_build_keeps_copies_of_revoked_photos_out(reposted, policy_file, tmp_path):
    from imagine.dataset.build import build_dataset

    c, _ = reposted
    report = build_dataset(c.manifest, c.owners, policy_file, tmp_path / "ds", progress=False)
    dec = {r["post_id"]: r for r in read_decisions(tmp_path / "ds").to_pylist()}
    assert dec["p005"]["reason"] == "revoked_by_event"
    assert dec["r_crop"]["reason"] == "copy_of_excluded" and dec["r_crop"]["detail"] == "p005 (revoked_by_event)"
    assert report.counts_by_reason["copy_of_excluded"] >= 1


def test_lookup_finds_a_20_percent_crop_and_not_other_pictures(built, pictures, tmp_path):
    scene_image, jpeg_bytes, crop = pictures
    out, _ = built
    src = scene_image(7)
    for seed in range(3):
        path = tmp_path / f"crop{seed}.jpg"
        path.write_bytes(jpeg_bytes(crop(src, 0.8, seed)))
        matches = lookup_image(out, path)
        assert matches and matches[0].post_id == "p007", (seed, matches)
    other = tmp_path / "other.jpg"
    # Same gradient and shapes as the corpus, shapes elsewhere (scene_image repeats every 72 ids).
    other.write_bytes(jpeg_bytes(scene_image(7, size=96).transpose(0).rotate(90)))
    assert lookup_image(out, other) == []
