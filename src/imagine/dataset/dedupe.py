"""Stage 6, dedupe (global): exact duplicates by sha256, near duplicates by phash Hamming distance.

Near pairs are found without comparing every pair: split the 64-bit hash into ``d + 1`` bands;
two hashes within distance ``d`` agree exactly on at least one band (pigeonhole), so only rows
sharing a band are compared. Groups are connected components (union-find). The row kept is the
earliest post (created_at, then post_id), so the choice never depends on batch order; the others
get ``duplicate_of`` = the kept post id.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def find_duplicates(post_ids: list[str], sha256: list[str], phash: list[str],
                    created_at: list[datetime | None], *, max_distance: int = 4) -> dict[str, str]:
    """``{duplicate post_id: kept post_id}`` for every row that is not its group's keeper."""
    n = len(post_ids)
    parent = list(range(n))

    def union(a: int, b: int) -> None:
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_by_sha: dict[str, int] = {}
    for i, h in enumerate(sha256):
        if h in first_by_sha:
            union(first_by_sha[h], i)
        else:
            first_by_sha[h] = i
    if max_distance >= 0:
        values = [int(h, 16) for h in phash]
        bands = max_distance + 1
        width = -(-64 // bands)
        mask = (1 << width) - 1
        for b in range(bands):
            buckets: dict[int, list[int]] = defaultdict(list)
            for i, v in enumerate(values):
                buckets[(v >> (b * width)) & mask].append(i)
            for members in buckets.values():
                if len(members) < 2:
                    continue
                for x in range(len(members)):
                    for y in range(x + 1, len(members)):
                        i, j = members[x], members[y]
                        if _find(parent, i) != _find(parent, j) and \
                                (values[i] ^ values[j]).bit_count() <= max_distance:
                            union(i, j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[_find(parent, i)].append(i)
    floor = datetime.min
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda i: ((created_at[i] or floor).replace(tzinfo=None), post_ids[i]))
        keep = post_ids[members[0]]
        for i in members[1:]:
            out[post_ids[i]] = keep
    return out
