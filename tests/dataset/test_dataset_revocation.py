"""apply-events + purge: revoked posts leave the latest version, their bytes and hashes leave the disk,
and lookup tells their history."""

from __future__ import annotations

import shutil

import lance
import pytest

from imagine.dataset import revocations
from imagine.dataset.events import apply_events
from imagine.dataset.lookup import lookup_image, lookup_post
from imagine.dataset.proof import prove_absent
from imagine.dataset.purge import NEEDLE_COLUMNS, purge
from imagine.dataset.versions import latest_version, list_versions, open_images
from imagine.dataset.write import read_decisions

REVOKED = {"p001": "post_deleted", "p002": "visibility_changed", "p003": "post_opted_out"}


@pytest.fixture()
def dataset(built, tmp_path):
    out = tmp_path / "ds"
    shutil.copytree(built[0], out)
    return out


def test_apply_events_then_purge_erases_and_proves(dataset, corpus, policy_file, data_home):
    from imagine.model.registry import ModelRecord, register_model, registry_path

    v1 = latest_version(dataset)
    needles = open_images(dataset).to_table(columns=NEEDLE_COLUMNS,
                                            filter="post_id IN ('p001', 'p002', 'p003')").to_pylist()
    control = open_images(dataset).to_table(columns=NEEDLE_COLUMNS, filter="post_id = 'p010'").to_pylist()
    assert len(needles) == 3
    register_model(registry_path(data_home), ModelRecord("m-test", "/models/m", str(dataset / "images.lance"), [v1]))

    report = apply_events(dataset, corpus.events, policy=policy_file)
    assert report.revoked == 3 and report.by_event_type == {"post_deleted": 1, "visibility_changed": 1,
                                                            "post_opted_out": 1}
    v2 = report.version
    latest = set(open_images(dataset).to_table(columns=["post_id"]).column(0).to_pylist())
    assert not latest & set(REVOKED)
    assert "p004" in latest  # made public: not a revocation
    dec = {r["post_id"]: r for r in read_decisions(dataset, filter=f"dataset_version = {v2}").to_pylist()}
    assert {p: dec[p]["reason"] for p in REVOKED} == dict.fromkeys(REVOKED, "revoked_by_event")
    assert dec["p001"]["event_id"] == "e1" and dec["p001"]["detail"] == "post_deleted:e1"
    assert len(dec) == len(corpus.expect)
    # A Lance delete only marks rows: the old version still returns them and the bytes are on disk.
    assert lance.dataset(str(dataset / "images.lance"), version=v1).count_rows(filter="post_id = 'p001'") == 1
    before = prove_absent(dataset, needles, control)
    assert before.conclusive and not before.erased
    assert {h.kind for h in before.hits} == {"png", "sha256_hex", "phash_hex", "phash_bits", "fp_hashes", "fp_thumb"}
    assert revocations.status(dataset)["p001"].status == "applied"

    # Applying the same events again changes nothing.
    assert apply_events(dataset, corpus.events, policy=policy_file).version is None

    result = purge(dataset)
    assert result.purged_posts == 3 and result.proof.erased and result.proof.posts_checked == 3
    assert result.proof.files_scanned > 5
    after = prove_absent(dataset, needles, control)  # independent re-check
    assert after.erased, after.as_dict()
    ds = lance.dataset(str(dataset / "images.lance"))
    assert [v["version"] for v in ds.versions()] == [result.version]
    assert list(ds.tags.list()) == [f"v{result.version}"]
    assert [v.kind for v in list_versions(dataset)] == ["build", "apply-events", "purge"]

    hist = lookup_post(dataset, "p001", registry=registry_path(data_home))
    assert hist.versions_included == [v1] and not hist.still_present
    r = hist.revocation
    assert r.status == "purged" and r.event_id == "e1" and r.applied_version == v2
    assert r.event_ts <= r.applied_at <= r.purged_at
    assert [m.model_id for m in hist.models] == ["m-test"]
    assert "purged in v" in hist.summary and "revoked by post_deleted e1" in hist.summary
    assert lookup_image(dataset, corpus.root / "images/p001.jpg") == []
    kept = lookup_post(dataset, "p010", registry=registry_path(data_home))
    assert kept.still_present and kept.versions_included == [v1, v2, result.version]


def test_rebuild_after_revocation_keeps_revoked_posts_out(dataset, corpus, policy_file):
    from imagine.dataset.build import build_dataset

    apply_events(dataset, corpus.events, policy=policy_file)
    report = build_dataset(corpus.manifest, corpus.owners, policy_file, dataset, export_events=False, progress=False)
    latest = set(open_images(dataset).to_table(columns=["post_id"]).column(0).to_pylist())
    assert not latest & set(REVOKED)
    assert report.counts_by_reason["revoked_by_event"] == 3


def test_purge_with_nothing_to_erase_respects_retention(dataset):
    v = latest_version(dataset)
    result = purge(dataset, retention_days=30)
    assert result.purged_posts == 0 and result.versions_removed == 0
    assert v in {x["version"] for x in lance.dataset(str(dataset / "images.lance")).versions()}


def test_build_with_events_decides_revocations_before_fetching(corpus, policy_file, tmp_path):
    from imagine.dataset.build import build_dataset

    report = build_dataset(corpus.manifest, corpus.owners, policy_file, tmp_path / "ds", events=corpus.events,
                           progress=False)
    dec = {r["post_id"]: r for r in read_decisions(tmp_path / "ds").to_pylist()}
    assert {p: dec[p]["reason"] for p in REVOKED} == dict.fromkeys(REVOKED, "revoked_by_event")
    assert dec["p002"]["detail"] == "visibility_changed:e2" and dec["p004"]["reason"] == "included"
    assert report.counts_by_reason["revoked_by_event"] == 3
    # y_exact copies p001 and y_near re-encodes p002: copies of revoked pictures stay out too.
    assert dec["y_exact"]["reason"] == dec["y_near"]["reason"] == "copy_of_excluded"
    assert dec["y_exact"]["detail"] == "p001 (revoked_by_event)"
