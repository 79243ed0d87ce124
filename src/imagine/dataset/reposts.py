"""Re-posts of revoked photos: rows whose picture is a near-duplicate of a revoked post's picture.

A revoked photo must leave the dataset with every copy of it - the same file re-uploaded, a
re-encode, a resize, a crop - whoever posted it (policy ``[revocation] near_duplicates``, on by
default). Matching is the crop-robust fingerprint of ``neardup.py``: hash candidates confirmed on
pixels. Used by ``apply-events`` (revoked rows are still in the dataset: their stored fingerprints)
and by ``build`` (posts revoked before the build are never included; their files are fingerprinted
for matching only, and nothing of them is stored).
"""

from __future__ import annotations

import hashlib

from imagine.dataset.load import Rejected, decode, fetch_bytes
from imagine.dataset.neardup import Fingerprint, FingerprintIndex, fingerprint


def copies_of(index: FingerprintIndex, post_ids: list[str], sha256: list[str | None],
              revoked: dict[str, tuple[Fingerprint, str | None]]) -> dict[str, str]:
    """``{row post_id: revoked post_id}`` for rows of ``index`` that copy a revoked picture.

    ``revoked``: post id -> (fingerprint, sha256 of its file). Revoked posts themselves are skipped.
    """
    by_sha: dict[str, list[int]] = {}
    for i, h in enumerate(sha256):
        if h:
            by_sha.setdefault(h, []).append(i)
    out: dict[str, str] = {}
    for rid, (fp, sha) in sorted(revoked.items()):
        rows = set(by_sha.get(sha, [])) if sha else set()
        rows |= {row for row, _, _ in index.matches(fp)}
        for row in sorted(rows):
            pid = post_ids[row]
            if pid not in revoked and pid not in out:
                out[pid] = rid
    return out


def fingerprint_files(rows: list[dict], base_dir: str | None, *, max_pixels: int, min_side: int
                      ) -> dict[str, tuple[Fingerprint, str]]:
    """Fingerprints of the files of ``rows`` (post_id, image_uri) that can be fetched and decoded."""
    out = {}
    for r in rows:
        try:
            data = fetch_bytes(r["image_uri"], base_dir)
            img = decode(data, max_pixels=max_pixels, min_side=min_side, draft_side=256, check_reserved=False)
        except (OSError, ValueError, Rejected):
            continue  # gone or unreadable: nothing to match on (its stored fingerprint, if any, is used)
        out[r["post_id"]] = (fingerprint(img), hashlib.sha256(data).hexdigest())
    return out
