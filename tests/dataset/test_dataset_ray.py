"""The same stage objects on a two-node local Ray cluster give the same rows as the local runner."""

from __future__ import annotations

import pytest

from imagine.dataset.versions import open_images
from imagine.dataset.write import read_decisions


@pytest.mark.slow
def test_two_node_ray_cluster_build_matches_local(corpus, policy_file, built, tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    from imagine.dataset.build import build_dataset

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        report = build_dataset(corpus.manifest, corpus.owners, policy_file, tmp_path / "ds",
                               ray_address=cluster.address, batch_size=8, export_events=False, progress=False)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert report.runner == "ray"
    assert report.counts_by_reason == built[1].counts_by_reason
    cols = ["post_id", "owner_id", "image", "caption", "raw_caption", "sha256", "phash", "policy_version"]
    assert open_images(tmp_path / "ds").to_table(columns=cols).equals(open_images(built[0]).to_table(columns=cols))
    ray_dec = {r["post_id"]: r["reason"] for r in read_decisions(tmp_path / "ds").to_pylist()}
    local_dec = {r["post_id"]: r["reason"] for r in read_decisions(built[0]).to_pylist()}
    assert ray_dec == local_dec
