"""Stage 1, consent: decide every post from metadata alone, before any pixel is fetched.

Input rows are manifest posts joined with their owner (``owner_*`` columns, see
``build.join_owners``). The first rule that fails gives the post's one exclusion reason; the
order puts the most final facts first (a deleted account outranks a private post).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from imagine.dataset import schema as s
from imagine.dataset.policy import Policy


@dataclass(frozen=True)
class Revocation:
    """A post revoked by a platform event in an earlier version; it stays out of every rebuild."""

    event_id: str
    event_type: str
    event_ts: datetime


@dataclass
class ConsentStage:
    policy: Policy
    as_of: datetime
    revoked: dict[str, Revocation] = field(default_factory=dict)

    def decide(self, row: dict) -> tuple[str, str | None, Revocation | None]:
        """(reason, detail, revocation) for one joined post row."""
        p = self.policy
        if row.get("owner_region") is None and row.get("owner_birth_year") is None \
                and row.get("owner_opt_out") is None:
            return s.OWNER_UNKNOWN, "owner not in owners table", None
        if row.get("account_deleted_at") is not None:
            return s.ACCOUNT_DELETED, None, None
        if row.get("deleted_at") is not None:
            return s.DELETED, None, None
        rev = self.revoked.get(row["post_id"])
        if rev is not None:
            return s.REVOKED_BY_EVENT, f"{rev.event_type}:{rev.event_id}", rev
        if row.get("owner_opt_out"):
            return s.OWNER_OPTED_OUT, None, None
        birth_year = row.get("owner_birth_year")
        if birth_year is None:
            return s.OWNER_MINOR, "birth year unknown", None
        # Counted conservatively: the owner may not have had this year's birthday yet.
        if self.as_of.year - int(birth_year) - 1 < p.min_age:
            return s.OWNER_MINOR, f"born {birth_year}", None
        region = (row.get("owner_region") or "").upper()
        if region in p.excluded_regions:
            return s.REGION_EXCLUDED, region, None
        if region in p.opt_in_only_regions and not row.get("owner_opt_in"):
            return s.REGION_OPT_IN_REQUIRED, region, None
        if row.get("visibility") not in p.allowed_visibilities:
            return s.NOT_PUBLIC, str(row.get("visibility")), None
        created = row.get("created_at")
        if p.created_after is not None and (created is None or created < p.created_after):
            return s.OUTSIDE_CUTOFF, f"created before {p.created_after.isoformat()}", None
        if p.created_before is not None and (created is None or created >= p.created_before):
            return s.OUTSIDE_CUTOFF, f"created after {p.created_before.isoformat()}", None
        return s.INCLUDED, None, None

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        cols = ["post_id", "visibility", "created_at", "deleted_at", "owner_region", "owner_birth_year",
                "owner_opt_out", "owner_opt_in", "account_deleted_at"]
        data = {c: batch.column(c).to_pylist() for c in cols if c in batch.schema.names}
        n = batch.num_rows
        included, reason, detail, event_id, event_ts = [], [], [], [], []
        for i in range(n):
            row = {c: v[i] for c, v in data.items()}
            r, d, rev = self.decide(row)
            included.append(r == s.INCLUDED)
            reason.append(r)
            detail.append(d)
            event_id.append(rev.event_id if rev else None)
            event_ts.append(rev.event_ts if rev else None)
        batch = s.set_column(batch, "included", pa.array(included, pa.bool_()))
        batch = s.set_column(batch, "reason", pa.array(reason, pa.string()))
        batch = s.set_column(batch, "detail", pa.array(detail, pa.string()))
        batch = s.set_column(batch, "event_id", pa.array(event_id, pa.string()))
        return s.set_column(batch, "event_ts", pa.array(event_ts, s.TS))
