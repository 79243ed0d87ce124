"""Column names, Arrow schemas and decision reasons shared by every dataset stage.

The working batch that flows through the stages carries the manifest columns plus the decision
columns (``included``, ``reason``, ``detail``); stages only touch rows still ``included`` and
mark a rejected row with a machine-readable reason, so every post ends with exactly one decision.
"""

from __future__ import annotations

import pyarrow as pa

PHASH_BITS = 64

# Decision reasons. "included" is the reason of an included row.
INCLUDED = "included"
NOT_PUBLIC = "not_public"
DELETED = "deleted"
OWNER_OPTED_OUT = "owner_opted_out"
OWNER_MINOR = "owner_minor"
OWNER_UNKNOWN = "owner_unknown"
REGION_EXCLUDED = "region_excluded"
REGION_OPT_IN_REQUIRED = "region_opt_in_required"
ACCOUNT_DELETED = "account_deleted"
OUTSIDE_CUTOFF = "outside_cutoff"
REVOKED_BY_EVENT = "revoked_by_event"
CAPTION_NOT_ENGLISH = "caption_not_english"
CAPTION_EMPTY = "caption_empty"
CAPTION_TOO_LONG = "caption_too_long"
FETCH_FAILED = "fetch_failed"
NOT_AN_IMAGE = "not_an_image"
TRUNCATED = "truncated"
DECOMPRESSION_BOMB = "decompression_bomb"
TOO_SMALL = "too_small"
RESERVED_BY_METADATA = "reserved_by_metadata"
DUPLICATE_OF = "duplicate_of"
COPY_OF_EXCLUDED = "copy_of_excluded"  # a copy (re-post, crop, ...) of a revoked / deleted / opted-out photo
# Posts whose pictures must not come back as someone's copy (policy [revocation] near_duplicates).
COPY_PROTECTED = ("revoked_by_event", "deleted", "account_deleted", "owner_opted_out")

CONSENT_REASONS = (
    NOT_PUBLIC, DELETED, OWNER_OPTED_OUT, OWNER_MINOR, OWNER_UNKNOWN, REGION_EXCLUDED,
    REGION_OPT_IN_REQUIRED, ACCOUNT_DELETED, OUTSIDE_CUTOFF, REVOKED_BY_EVENT,
)
ALL_REASONS = (INCLUDED, *CONSENT_REASONS, CAPTION_NOT_ENGLISH, CAPTION_EMPTY, CAPTION_TOO_LONG, FETCH_FAILED, NOT_AN_IMAGE,
               TRUNCATED, DECOMPRESSION_BOMB, TOO_SMALL, RESERVED_BY_METADATA, DUPLICATE_OF, COPY_OF_EXCLUDED)

TS = pa.timestamp("us", tz="UTC")

# Stored verbatim (Lance would otherwise FSST/zstd-compress them), so that the erasure proof can
# find these bytes on disk by scanning files - and a control shows it would.
_VERBATIM = {"lance-encoding:compression": "none"}

# images.lance: the training rows (docs/interfaces.md), plus phash_bits for the vector index.
IMAGES_SCHEMA = pa.schema([
    pa.field("post_id", pa.string(), nullable=False),
    pa.field("owner_id", pa.string(), nullable=False),
    pa.field("image", pa.binary(), metadata=_VERBATIM),
    pa.field("caption", pa.string()),
    pa.field("raw_caption", pa.string()),
    pa.field("sha256", pa.string(), metadata=_VERBATIM),
    pa.field("phash", pa.string(), metadata=_VERBATIM),
    pa.field("policy_version", pa.string()),
    # The 64 phash bits as 0/1 floats: squared L2 between two rows is their Hamming distance.
    pa.field("phash_bits", pa.list_(pa.float32(), PHASH_BITS)),
    # Crop-robust fingerprint (neardup.py): window hashes (little-endian uint64 each) and a
    # 32 x 32 RGB thumbnail of the whole original frame; used to find re-posts and copies.
    pa.field("fp_hashes", pa.binary(), metadata=_VERBATIM),
    pa.field("fp_thumb", pa.binary(), metadata=_VERBATIM),
    # What the image shows, written by the recaption stage's captioner (null: none configured or nothing seen).
    pa.field("descriptive_caption", pa.string()),
])

# decisions.lance: one row per post per dataset version (never hashes or pixels: they must purge).
DECISIONS_SCHEMA = pa.schema([
    pa.field("dataset_version", pa.int64(), nullable=False),
    pa.field("post_id", pa.string(), nullable=False),
    pa.field("owner_id", pa.string()),
    pa.field("included", pa.bool_(), nullable=False),
    pa.field("reason", pa.string(), nullable=False),
    pa.field("detail", pa.string()),
    pa.field("event_id", pa.string()),
    pa.field("event_ts", TS),
    pa.field("policy_version", pa.string()),
    pa.field("decided_at", TS),
])

# The decision columns every stage reads and writes on the working batch.
DECISION_COLUMNS = ("included", "reason", "detail", "event_id", "event_ts")


def set_column(batch: pa.RecordBatch, name: str, values: pa.Array | list) -> pa.RecordBatch:
    """Replace (or append) one column of a record batch."""
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values)
    idx = batch.schema.get_field_index(name)
    if idx >= 0:
        return batch.set_column(idx, name, arr)
    return batch.append_column(name, arr)


class Rejections:
    """Collects per-row rejections inside a stage and folds them back into the batch."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.included = batch.column("included").to_pylist()
        self.reason = batch.column("reason").to_pylist()
        self.detail = batch.column("detail").to_pylist()

    def reject(self, i: int, reason: str, detail: str | None = None) -> None:
        self.included[i] = False
        self.reason[i] = reason
        self.detail[i] = detail

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        batch = set_column(batch, "included", pa.array(self.included, pa.bool_()))
        batch = set_column(batch, "reason", pa.array(self.reason, pa.string()))
        return set_column(batch, "detail", pa.array(self.detail, pa.string()))
