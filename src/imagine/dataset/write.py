"""Stage 7, write: training rows to ``images.lance`` with its indices, decisions to ``decisions.lance``.

Indices: BTREE scalar indices on ``post_id`` and ``owner_id``; an IVF_FLAT vector index (L2 on
the 0/1 ``phash_bits``, i.e. Hamming distance) for image lookup once the table has at least
``VECTOR_INDEX_MIN_ROWS`` rows. Below that an IVF index cannot be trained usefully (too few rows
per partition) and a brute-force scan of 64 floats a row answers within milliseconds anyway.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa

from imagine.dataset import schema as s
from imagine.dataset.versions import DECISIONS, IMAGES

VECTOR_INDEX_MIN_ROWS = 5000


def images_uri(dataset_dir: Path) -> str:
    return str(Path(dataset_dir) / IMAGES)


def write_mode(dataset_dir: Path) -> str:
    return "overwrite" if (Path(dataset_dir) / IMAGES).exists() else "create"


def image_rows(table: pa.Table, policy_version: str) -> pa.Table:
    """The images.lance columns from the stages' working columns (user caption -> ``raw_caption``)."""
    n = table.num_rows
    cols = {
        "post_id": table.column("post_id"), "owner_id": table.column("owner_id"), "image": table.column("image"),
        "caption": table.column("train_caption"), "raw_caption": table.column("caption"),
        "sha256": table.column("sha256"),
        "phash": table.column("phash"), "policy_version": pa.array([policy_version] * n, pa.string()),
        "phash_bits": table.column("phash_bits"), "fp_hashes": table.column("fp_hashes"),
        "fp_thumb": table.column("fp_thumb"),
        "descriptive_caption": (table.column("descriptive_caption") if "descriptive_caption" in table.column_names
                                else pa.nulls(n, pa.string())),
    }
    return pa.table(cols).cast(s.IMAGES_SCHEMA)


def write_images_local(table: pa.Table, dataset_dir: Path) -> None:
    import lance

    lance.write_dataset(table, images_uri(dataset_dir), schema=s.IMAGES_SCHEMA, mode=write_mode(dataset_dir),
                        max_rows_per_group=1024)


def build_indices(dataset_dir: Path) -> int:
    """(Re)build every index on the latest images.lance; returns the resulting Lance version."""
    import lance

    ds = lance.dataset(images_uri(dataset_dir))
    rows = ds.count_rows()
    if rows == 0:
        return ds.version
    ds.create_scalar_index("post_id", "BTREE", name="post_id_idx", replace=True)
    ds.create_scalar_index("owner_id", "BTREE", name="owner_id_idx", replace=True)
    if rows >= VECTOR_INDEX_MIN_ROWS:
        partitions = max(1, min(256, int(math.sqrt(rows) / 4)))
        ds.create_index("phash_bits", "IVF_FLAT", name="phash_idx", metric="L2",
                        num_partitions=partitions, replace=True)
    elif any(i["name"] == "phash_idx" for i in ds.list_indices()):
        ds.drop_index("phash_idx")
    return lance.dataset(images_uri(dataset_dir)).version


def append_decisions(dataset_dir: Path, table: pa.Table) -> None:
    """Add one version's decisions (replacing rows a killed run may have left for that version)."""
    import lance

    uri = str(Path(dataset_dir) / DECISIONS)
    table = table.select(s.DECISIONS_SCHEMA.names).cast(s.DECISIONS_SCHEMA)
    if not Path(uri).exists():
        lance.write_dataset(table, uri, schema=s.DECISIONS_SCHEMA, mode="create")
        return
    versions = sorted(set(table.column("dataset_version").to_pylist()))
    ds = lance.dataset(uri)
    predicate = f"dataset_version IN ({', '.join(map(str, versions))})"
    if ds.count_rows(filter=predicate):
        ds.delete(predicate)
    lance.write_dataset(table, uri, schema=s.DECISIONS_SCHEMA, mode="append")


def read_decisions(dataset_dir: Path, *, filter: str | None = None, columns: list[str] | None = None) -> pa.Table:
    """Decision rows of committed versions only."""
    import lance

    from imagine.dataset.versions import list_versions

    uri = Path(dataset_dir) / DECISIONS
    if not uri.exists():
        return s.DECISIONS_SCHEMA.empty_table()
    committed = [v.version for v in list_versions(dataset_dir)]
    if not committed:
        return s.DECISIONS_SCHEMA.empty_table()
    where = f"dataset_version IN ({', '.join(map(str, committed))})"
    if filter:
        where = f"({where}) AND ({filter})"
    return lance.dataset(str(uri)).to_table(filter=where, columns=columns)
