"""kill -9 mid-build: no partial version is ever visible, and a rerun completes with the same rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lance
import pytest

from imagine.dataset.versions import available_versions, list_versions, open_images, recover
from imagine.dataset.write import read_decisions

SCRIPT = """
import sys
from imagine.dataset.build import build_dataset
build_dataset(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], progress=False, batch_size=4, export_events=False)
"""


def _lance_versions(out: Path) -> int:
    d = out / "images.lance" / "_versions"
    return len(list(d.glob("*.manifest"))) if d.exists() else 0


def _start(corpus, policy_file, out: Path) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(corpus.manifest), str(corpus.owners),
                             str(policy_file), str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()`` holds; False if the process ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("build neither finished nor reached the kill point")


def _assert_consistent(out: Path) -> None:
    """What a reader sees: only committed versions, each with its rows and exactly its decisions."""
    on_disk = set(available_versions(out))
    assert list_versions(out) == [] or list_versions(out)[-1].version in on_disk
    for v in list_versions(out):
        if v.version not in on_disk:
            continue  # removed by purge: its decisions stay, its rows are gone by design
        rows = open_images(out, v.version).count_rows()
        assert rows == v.rows
        dec = read_decisions(out, filter=f"dataset_version = {v.version}")
        assert dec.filter(dec.column("included")).num_rows == rows


@pytest.mark.parametrize("kill_point", ["first_lance_commit", "second_lance_commit", "early"])
def test_kill_first_build_then_rerun(corpus, policy_file, built, tmp_path, kill_point):
    from imagine.dataset.build import build_dataset

    out = tmp_path / "ds"
    proc = _start(corpus, policy_file, out)
    ready = {
        "first_lance_commit": lambda: _lance_versions(out) >= 1,
        "second_lance_commit": lambda: _lance_versions(out) >= 2,
        "early": lambda: out.exists(),  # during recovery / reading inputs / loading the model
    }[kill_point]
    killed = _kill_when(proc, ready)
    if killed:
        assert list_versions(out) == [] or (out / "versions.json").exists()
        _assert_consistent(out)
    report = build_dataset(corpus.manifest, corpus.owners, policy_file, out, export_events=False, progress=False)
    _assert_consistent(out)
    assert [v.version for v in list_versions(out)][-1] == report.version
    assert lance.dataset(str(out / "images.lance")).version == report.version
    reference = open_images(built[0]).to_table(columns=["post_id", "image", "sha256"])
    assert open_images(out).to_table(columns=["post_id", "image", "sha256"]).equals(reference)


def test_kill_second_build_keeps_first_version_visible(corpus, policy_file, built, tmp_path):
    import shutil

    out = tmp_path / "ds"
    shutil.copytree(built[0], out)
    first = list_versions(out)[-1].version
    before = _lance_versions(out)
    proc = _start(corpus, policy_file, out)
    killed = _kill_when(proc, lambda: _lance_versions(out) > before)
    assert killed
    # The half-made version is past the commit log: readers still get the first one.
    assert list_versions(out)[-1].version == first
    assert open_images(out).version == first
    _assert_consistent(out)
    recover(out)
    assert lance.dataset(str(out / "images.lance")).to_table(columns=["post_id", "sha256"]).equals(
        open_images(out, first).to_table(columns=["post_id", "sha256"]))
    _assert_consistent(out)


PURGE = """
import sys
from imagine.dataset.purge import purge
purge(sys.argv[1])
"""


@pytest.mark.parametrize("kill_after_manifests", [1, 2, 3])
def test_kill_purge_then_rerun(corpus, policy_file, built, tmp_path, kill_after_manifests):
    import shutil

    from imagine.dataset import revocations
    from imagine.dataset.events import apply_events
    from imagine.dataset.purge import purge

    out = tmp_path / "ds"
    shutil.copytree(built[0], out)
    apply_events(out, corpus.events, policy=policy_file)
    before = _lance_versions(out)
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-c", PURGE, str(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: _lance_versions(out) >= before + kill_after_manifests)
    _assert_consistent(out)
    result = purge(out)
    _assert_consistent(out)
    present = set(open_images(out).to_table(columns=["post_id"]).column(0).to_pylist())
    assert not present & {"p001", "p002", "p003"}
    assert not result.proof.hits and result.proof.conclusive
    assert {r.status for r in revocations.status(out).values()} == {"purged"}
    assert [v["version"] for v in lance.dataset(str(out / "images.lance")).versions()] == [result.version]
