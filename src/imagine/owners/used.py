""""Was this photo used?": any image, from anyone, matched against every dataset version still on disk.

Also for people who are not owners: a photographer whose picture someone else re-posted can
upload their copy. The latest version is searched by ``imagine.dataset.lookup.lookup_image``
(exact sha256 of the uploaded file + perceptual hash); older committed versions still on disk
(not yet purged) are searched the same way, so a revoked-but-unpurged photo is still found — and
reported as such. A purged photo is, by design, found nowhere.

Answer and confidence: an exact file match is "yes" (1.0); a perceptual-hash match within the
dataset's near-duplicate threshold is "yes" with the lookup's confidence; a match up to twice the
threshold is "possibly"; nothing within that is "no".
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from imagine.images import MAX_BYTES, MAX_PIXELS, open_image, read_capped


@dataclass
class UsedMatch:
    post_id: str
    distance: int
    confidence: float
    exact: bool
    versions_included: list[int]
    in_latest: bool
    revocation: str | None  # None / applied / purged
    models: list[str] = field(default_factory=list)
    owner_id: str | None = None  # filled only when the asker is that owner (never leak other owners)


@dataclass
class UsedAnswer:
    answer: str  # yes / possibly / no
    confidence: float
    versions_searched: list[int]
    matches: list[UsedMatch]

    def to_dict(self) -> dict:
        return asdict(self)


def _older_version_hits(dataset_dir: Path, image, data: bytes | None, *, max_distance: int, k: int) -> dict[str, tuple[int, bool]]:
    """``{post_id: (distance, exact)}`` from committed versions other than the latest that are still on disk."""
    import lance

    from imagine.dataset.card import read_card
    from imagine.dataset.transform import phash_of, transform_image
    from imagine.dataset.versions import list_versions, open_images

    versions = list_versions(dataset_dir)
    on_disk = {v["version"] for v in lance.dataset(str(Path(dataset_dir) / "images.lance")).versions()}
    older = [v.version for v in versions[:-1] if v.version in on_disk]
    if not older:
        return {}
    resolution = read_card(dataset_dir, versions[-1].version).get("resolution")
    _, bits = phash_of(transform_image(image, int(resolution)))
    sha = hashlib.sha256(data).hexdigest() if data is not None else None
    hits: dict[str, tuple[int, bool]] = {}
    for version in older:
        ds = open_images(dataset_dir, version)
        if sha is not None:
            exact = ds.to_table(columns=["post_id"], filter=f"sha256 = '{sha}'")
            for pid in exact.column("post_id").to_pylist():
                hits[pid] = (0, True)
        near = ds.to_table(columns=["post_id"], nearest={"column": "phash_bits", "q": bits.astype(np.float32), "k": k})
        for pid, dist in zip(near.column("post_id").to_pylist(), near.column("_distance").to_pylist()):
            d = int(round(dist))
            if d <= max_distance and pid not in hits:
                hits[pid] = (d, False)
            elif pid in hits and not hits[pid][1] and d < hits[pid][0]:
                hits[pid] = (d, False)
    return hits


def _open(image, *, max_pixels: int, max_bytes: int) -> tuple[Image.Image, bytes | None]:  # noqa: ANN001
    """The upright RGB image, plus the original file bytes when there is a file (for the exact sha256 match)."""
    if isinstance(image, Image.Image):
        return image.convert("RGB"), None
    data = read_capped(image, max_bytes)
    return open_image(data, max_pixels=max_pixels, max_bytes=max_bytes), data


def was_this_used(dataset_dir: Path, image, *, registry: Path, asking_owner: str | None = None, k: int = 5,
                  max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> UsedAnswer:
    """Look ``image`` (path, bytes or PIL image) up in every version of the dataset at ``dataset_dir``.

    A file is opened by ``imagine.images.open_image`` under ``max_pixels`` and ``max_bytes``; a hostile or
    broken one raises ``ImageRejected`` before it is decoded.
    """
    from imagine.config import get_settings
    from imagine.dataset.lookup import lookup_image, lookup_post
    from imagine.dataset.versions import list_versions

    pil, data = _open(image, max_pixels=max_pixels, max_bytes=max_bytes)  # a hostile file is refused first
    dataset_dir = Path(dataset_dir)
    versions = [v.version for v in list_versions(dataset_dir)]
    if not versions:
        raise FileNotFoundError(f"{dataset_dir} holds no committed dataset version; build the dataset first")
    threshold = get_settings().dataset.phash_distance
    max_distance = 2 * threshold
    found: dict[str, tuple[int, bool]] = {}
    for m in lookup_image(dataset_dir, pil, sha256=None if data is None else hashlib.sha256(data).hexdigest(),
                          max_distance=max_distance, k=k):
        found[m.post_id] = (m.distance, m.exact)
    for pid, (dist, exact) in _older_version_hits(dataset_dir, pil, data, max_distance=max_distance, k=k).items():
        if pid not in found or (exact, -dist) > (found[pid][1], -found[pid][0]):
            found[pid] = (dist, exact)
    matches = []
    for pid, (dist, exact) in found.items():
        history = lookup_post(dataset_dir, pid, registry=registry)
        confidence = 1.0 if exact else round(max(0.0, 1.0 - dist / (2 * max(threshold, 1))), 3)
        rev = history.revocation
        matches.append(
            UsedMatch(
                post_id=pid,
                distance=dist,
                confidence=confidence,
                exact=exact,
                versions_included=history.versions_included,
                in_latest=history.still_present,
                revocation=None if rev is None else rev.status,
                models=sorted({m.model_id for m in history.models}),
                owner_id=history.owner_id if asking_owner is not None and history.owner_id == asking_owner else None,
            )
        )
    matches.sort(key=lambda m: (-m.confidence, m.distance, m.post_id))
    if not matches:
        # Nothing within twice the near-duplicate threshold in any version on disk. (Heavy crops or
        # edits can escape a perceptual hash; the page says so.)
        return UsedAnswer("no", 1.0, versions, [])
    best = matches[0]
    answer = "yes" if best.exact or best.distance <= threshold else "possibly"
    return UsedAnswer(answer, best.confidence, versions, matches)
