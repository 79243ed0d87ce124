""""Was this photo used?": any image, from anyone, matched against every dataset version still on disk.

Also for people who are not owners: a photographer whose picture someone else re-posted can
upload their copy. The latest version is searched by ``imagine.dataset.lookup.lookup_image``
(exact sha256 of the uploaded file + the crop-robust fingerprint, so a cropped copy is found); older committed versions still on disk
(not yet purged) are searched the same way, so a revoked-but-unpurged photo is still found — and
reported as such. A purged photo is, by design, found nowhere.

Answer and confidence: an exact file match is "yes" (1.0); a fingerprint match whose pixel check
is within ``neardup.MAX_RMSE`` is "yes" with the lookup's confidence; up to twice that is
"possibly"; nothing within that is "no".
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lance
from PIL import Image

from imagine.dataset.lookup import Match, lookup_image, lookup_post, match_version
from imagine.dataset.neardup import MAX_RMSE
from imagine.dataset.versions import list_versions, open_images
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


def _older_version_hits(dataset_dir: Path, image: Image.Image, sha256: str | None, *, max_rmse: float) -> dict[str, Match]:
    """Matches in committed versions other than the latest that are still on disk (not yet purged)."""
    versions = list_versions(dataset_dir)
    on_disk = {v["version"] for v in lance.dataset(str(Path(dataset_dir) / "images.lance")).versions()}
    hits: dict[str, Match] = {}
    for v in versions[:-1]:
        if v.version not in on_disk:
            continue
        for pid, m in match_version(open_images(dataset_dir, v.version), image, sha256, max_rmse=max_rmse).items():
            if pid not in hits or (m.exact, -m.rmse) > (hits[pid].exact, -hits[pid].rmse):
                hits[pid] = m
    return hits


def _open(image, *, max_pixels: int, max_bytes: int) -> tuple[Image.Image, bytes | None]:  # noqa: ANN001
    """The upright RGB image, plus the original file bytes when there is a file (for the exact sha256 match)."""
    if isinstance(image, Image.Image):
        return image.convert("RGB"), None
    data = read_capped(image, max_bytes)
    return open_image(data, max_pixels=max_pixels, max_bytes=max_bytes), data


def was_this_used(dataset_dir: Path, image, *, registry: Path, asking_owner: str | None = None,
                  max_pixels: int = MAX_PIXELS, max_bytes: int = MAX_BYTES) -> UsedAnswer:
    """Look ``image`` (path, bytes or PIL image) up in every version of the dataset at ``dataset_dir``.

    A file is opened by ``imagine.images.open_image`` under ``max_pixels`` and ``max_bytes``; a hostile or
    broken one raises ``ImageRejected`` before it is decoded.
    """
    pil, data = _open(image, max_pixels=max_pixels, max_bytes=max_bytes)  # a hostile file is refused first
    dataset_dir = Path(dataset_dir)
    versions = [v.version for v in list_versions(dataset_dir)]
    if not versions:
        raise FileNotFoundError(f"{dataset_dir} holds no committed dataset version; build the dataset first")
    max_rmse = 2 * MAX_RMSE  # up to twice the match threshold: reported as "possibly"
    sha = None if data is None else hashlib.sha256(data).hexdigest()
    found: dict[str, Match] = {m.post_id: m for m in lookup_image(dataset_dir, pil, sha256=sha, max_rmse=max_rmse)}
    for pid, m in _older_version_hits(dataset_dir, pil, sha, max_rmse=max_rmse).items():
        if pid not in found or (m.exact, -m.rmse) > (found[pid].exact, -found[pid].rmse):
            found[pid] = m
    matches = []
    for pid, m in found.items():
        history = lookup_post(dataset_dir, pid, registry=registry)
        rev = history.revocation
        matches.append(
            UsedMatch(
                post_id=pid,
                distance=m.distance,
                confidence=1.0 if m.exact else m.confidence,
                exact=m.exact,
                versions_included=history.versions_included,
                in_latest=history.still_present,
                revocation=None if rev is None else rev.status,
                models=sorted({x.model_id for x in history.models}),
                owner_id=history.owner_id if asking_owner is not None and history.owner_id == asking_owner else None,
            )
        )
    matches.sort(key=lambda x: (-x.confidence, x.distance, x.post_id))
    if not matches:
        # Nothing within twice the match threshold in any version on disk. (Heavier crops or
        # edits than measured in docs/dataset.md can escape the fingerprint; the page says so.)
        return UsedAnswer("no", 1.0, versions, [])
    best = matches[0]
    answer = "yes" if best.exact or best.confidence >= 0.5 else "possibly"
    return UsedAnswer(answer, best.confidence, versions, matches)
