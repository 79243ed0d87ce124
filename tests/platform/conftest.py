"""A small demo corpus shared by the platform tests (one per xdist worker)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from imagine.platform.demo import generate_demo

CORPUS_POSTS = 500


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    summary = generate_demo(out, posts=CORPUS_POSTS, seed=0, progress=False, workers=1)
    return out, summary


@pytest.fixture(scope="session")
def tables(corpus):
    out, _ = corpus
    posts = pq.read_table(out / "posts.parquet").to_pandas()
    truth = pq.read_table(out / "truth.parquet").to_pandas()
    scenes = pq.read_table(out / "scenes.parquet").to_pandas()
    owners = pq.read_table(out / "owners.parquet").to_pandas()
    merged = posts.merge(truth, on="post_id").merge(scenes, on="post_id")
    return {"posts": posts, "truth": truth, "scenes": scenes, "owners": owners, "merged": merged}
