"""Deciding, post by post, what the demo platform holds: owners, scenes, files, captions, special cases, events.

Planning is sequential and cheap (one ``random.Random(seed)``); encoding the planned files is the expensive
part and runs elsewhere (``files.encode``), in any order. A short, fixed list of forced cases early in the
corpus guarantees that every special case occurs even in a small corpus; the rest are drawn at their rates.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from imagine.platform import captions
from imagine.platform.files import FilePlan
from imagine.platform.metadata import SIGNAL_CAWG, SIGNAL_DMI
from imagine.platform.scenes import Scene, SceneObject, is_held_out, sample_scene

# Timestamps come from the seed, never from the clock: the corpus opens on BASE + seed days.
BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN = timedelta(days=365)
EVENT_WINDOW = timedelta(days=60)
EXPORT_YEAR = 2025  # minors are owners under 18 in this year

REGIONS: dict[str, int] = {
    "US": 20, "GB": 6, "DE": 7, "FR": 6, "ES": 4, "IT": 4, "NL": 3, "PL": 3, "SE": 2, "IE": 2, "AT": 1, "BE": 2,
    "PT": 2, "DK": 1, "FI": 1, "CZ": 1, "GR": 1, "RO": 1, "BR": 6, "IN": 8, "JP": 5, "KR": 3, "CA": 4, "AU": 3,
    "MX": 3, "NG": 2, "ZA": 2, "CH": 1, "NO": 1, "TR": 2,
}
EU_REGIONS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
ASPECTS = ((1, 1), (4, 3), (3, 4), (16, 9), (9, 16), (3, 2), (2, 3))
FORMATS = {"jpeg": 50, "png": 25, "webp": 25}
VISIBILITY_WEIGHTS = {"public": 70, "friends": 20, "private": 10}

FILE_CASES: dict[str, float] = {
    "normal": 0.72,
    "exif_orientation": 0.04,
    "grayscale": 0.03,
    "cmyk": 0.02,
    "alpha": 0.03,
    "truncated": 0.01,
    "zero_byte": 0.005,
    "not_an_image": 0.005,
    "exact_duplicate": 0.04,
    "near_duplicate:reencoded": 0.03,
    "near_duplicate:resized": 0.03,
    "near_duplicate:cropped": 0.03,
}
CORRUPT = frozenset({"truncated", "zero_byte", "not_an_image"})
RATES = {
    "deleted": 0.03, "dmi": 0.04, "cawg": 0.03, "repost_other_owner": 0.5,
    "caption_empty": 0.05, "caption_foreign": 0.04, "hashtags": 0.25, "emoji": 0.15, "mention": 0.1, "url": 0.05,
    "later_post_deleted": 0.02, "later_visibility": 0.02, "later_post_opt_out": 0.01,
    "minor": 0.07, "opt_out": 0.08, "account_deleted": 0.02, "later_opt_out": 0.03, "later_account_deleted": 0.01,
}
# Guaranteed cases: FORCED[k] applies to post FORCED_START + FORCED_STRIDE * k.
FORCED: tuple[tuple[str, str], ...] = (
    ("file", "exif_orientation"), ("file", "grayscale"), ("file", "cmyk"), ("file", "alpha"),
    ("file", "truncated"), ("file", "zero_byte"), ("file", "not_an_image"),
    ("file", "exact_duplicate"), ("file", "repost_other_owner"), ("file", "near_duplicate:reencoded"),
    ("file", "near_duplicate:resized"), ("file", "near_duplicate:cropped"),
    ("format", "jpeg"), ("format", "png"), ("format", "webp"),
    ("meta", SIGNAL_DMI), ("meta", SIGNAL_CAWG),
    ("caption", "empty"), ("caption", "es"), ("caption", "fr"), ("caption", "de"), ("caption", "ja"),
    ("caption", "hashtags"), ("caption", "emoji"), ("caption", "mention"), ("caption", "url"),
    ("visibility", "friends"), ("visibility", "private"), ("deleted", "yes"),
)
FORCED_START, FORCED_STRIDE = 8, 2
# Owner j < len(FORCED_OWNERS) carries that case; posts 0..n_owners-1 belong to owners 0..n_owners-1.
FORCED_OWNERS: tuple[str, ...] = ("minor", "opt_out", "account_deleted", "later_opt_out", "later_account_deleted",
                                  "region:DE", "region:FR", "region:ES")
# Post i carries a later event of this type (posts 1-3 are never duplicates, so they exist as originals).
FORCED_POST_EVENTS: dict[int, str] = {1: "post_deleted", 2: "visibility_changed", 3: "post_opted_out"}
DUPLICATE_BUFFER = 256


@dataclass
class OwnerPlan:
    owner_id: str
    region: str
    birth_year: int
    ai_training_opt_out: bool
    created_at: datetime
    account_deleted_at: datetime | None

    @property
    def minor(self) -> bool:
        return EXPORT_YEAR - self.birth_year < 18


@dataclass
class PostPlan:
    post_id: str
    owner_id: str
    image_uri: str
    file: FilePlan
    scene: Scene  # what the stored image shows (after crop)
    caption: str | None
    visibility: str
    created_at: datetime
    deleted_at: datetime | None
    tags: list[str] = field(default_factory=list)
    duplicate_of: str | None = None


def file_tags(file: FilePlan) -> list[str]:
    """The special cases a file carries, read off its plan (an exact copy carries its original's)."""
    tags = [f"format:{file.fmt}"]
    tags += [tag for tag, on in (
        ("grayscale", file.mode == "L"), ("cmyk", file.mode == "CMYK"), ("alpha", file.mode == "RGBA"),
        ("exif_orientation", file.orientation is not None), (SIGNAL_DMI, file.dmi_prohibited),
        (SIGNAL_CAWG, file.cawg_not_allowed)) if on]
    return tags + ([file.corruption] if file.corruption else [])


def _weighted(rng: random.Random, weights: dict[str, float] | dict[str, int]) -> str:
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _ts(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CorpusPlanner:
    """Plans owners, then posts one at a time, collecting the later events on the way."""

    def __init__(self, posts: int, seed: int) -> None:
        if posts < 1:
            raise ValueError(f"posts must be at least 1, got {posts}")
        self.posts, self.seed = posts, seed
        self.rng = random.Random(seed)
        self.base = BASE + timedelta(days=seed % 365)
        self.export_at = self.base + SPAN + timedelta(days=1)
        self.forced = {FORCED_START + FORCED_STRIDE * k: case for k, case in enumerate(FORCED)}
        self.events: list[dict] = []
        self.originals: deque[PostPlan] = deque(maxlen=DUPLICATE_BUFFER)
        self.owners = [self._owner(j) for j in range(max(8, posts // 8))]

    # ---- owners ----
    def _owner(self, j: int) -> OwnerPlan:
        rng = self.rng
        forced = FORCED_OWNERS[j] if j < len(FORCED_OWNERS) else None
        region = forced.split(":")[1] if forced and forced.startswith("region:") else _weighted(rng, REGIONS)
        minor = forced == "minor" or (forced is None and rng.random() < RATES["minor"])
        birth_year = rng.randint(EXPORT_YEAR - 17, EXPORT_YEAR - 13) if minor else rng.randint(1945, EXPORT_YEAR - 19)
        opt_out = forced == "opt_out" or (forced is None and rng.random() < RATES["opt_out"])
        created = self.base - timedelta(seconds=rng.randint(3600, 700 * 86400))
        deleted = forced == "account_deleted" or (forced is None and rng.random() < RATES["account_deleted"])
        deleted_at = self.export_at - timedelta(seconds=rng.randint(3600, 30 * 86400)) if deleted else None
        owner = OwnerPlan(f"u{j:06d}", region, birth_year, opt_out, created, deleted_at)
        if not opt_out and (forced == "later_opt_out" or (forced is None and rng.random() < RATES["later_opt_out"])):
            self._event("owner_opted_out", owner.owner_id, None)
        if not deleted and (
            forced == "later_account_deleted" or (forced is None and rng.random() < RATES["later_account_deleted"])
        ):
            self._event("account_deleted", owner.owner_id, None)
        return owner

    def _event(self, kind: str, owner_id: str, post_id: str | None, **extra: str) -> None:
        ts = self.export_at + timedelta(seconds=self.rng.randint(60, int(EVENT_WINDOW.total_seconds())))
        self.events.append({"ts": _ts(ts), "type": kind, "owner_id": owner_id, "post_id": post_id, **extra})

    def sorted_events(self) -> list[dict]:
        """The event log in time order, with ids assigned in that order."""
        ordered = sorted(enumerate(self.events), key=lambda item: (item[1]["ts"], item[0]))
        return [{"event_id": f"e{n:08d}", **event} for n, (_, event) in enumerate(ordered, start=1)]

    # ---- posts ----
    def plan(self, i: int) -> PostPlan:
        rng = self.rng
        forced_key, forced_value = self.forced.get(i, (None, None))
        post_id = f"p{i:07d}"
        owner_id = self.owners[i].owner_id if i < len(self.owners) else self._any_owner()
        step = SPAN.total_seconds() / self.posts
        created = self.base + timedelta(seconds=int(i * step + rng.uniform(0, step)))

        case = forced_value if forced_key == "file" else _weighted(rng, FILE_CASES)
        tags: list[str] = []
        source: PostPlan | None = None
        if case.startswith(("exact_", "near_", "repost_")) and (i < FORCED_START or not self.originals):
            case = "normal"
        if case == "repost_other_owner" or case.startswith(("exact_", "near_")):
            source = rng.choice(self.originals)
            file, scene, dup_kind = self._duplicate(source, case)
            other = case == "repost_other_owner" or (forced_key != "file" and rng.random() < RATES["repost_other_owner"])
            if other:
                owner_id = self._any_owner(exclude=source.owner_id)
                tags.append("repost_other_owner")
            else:
                owner_id = source.owner_id
            tags.append(dup_kind)
        else:
            scene = sample_scene(rng, held_out=False)
            fmt = forced_value if forced_key == "format" else _weighted(rng, FORMATS)
            file = self._original_file(scene, case, fmt, forced_key, forced_value)
        tags += file_tags(file)

        caption, caption_tags = self._caption(scene, forced_value if forced_key == "caption" else None)
        tags += caption_tags
        visibility = forced_value if forced_key == "visibility" else _weighted(rng, VISIBILITY_WEIGHTS)
        deleted_at = None
        if forced_key == "deleted" or rng.random() < RATES["deleted"]:
            deleted_at = created + (self.export_at - created) * rng.uniform(0.05, 0.95)
            deleted_at = deleted_at.replace(microsecond=0)
            tags.append("deleted")
        owner = self.owners[int(owner_id[1:])]
        tags += [t for t, on in (("minor_owner", owner.minor), ("owner_opted_out", owner.ai_training_opt_out),
                                 ("owner_deleted", owner.account_deleted_at is not None)) if on]

        post = PostPlan(
            post_id=post_id,
            owner_id=owner_id,
            image_uri=f"images/{i % 256:02x}/{post_id}.{file.extension}",
            file=file,
            scene=scene,
            caption=caption,
            visibility=visibility,
            created_at=created,
            deleted_at=deleted_at,
            tags=sorted(tags),
            duplicate_of=source.post_id if source is not None else None,
        )
        if source is None and file.corruption is None:
            self.originals.append(post)
        self._post_events(post, i)
        return post

    def _any_owner(self, exclude: str | None = None) -> str:
        while True:
            # Skewed: a few owners post a lot, most post a little.
            owner_id = self.owners[int(len(self.owners) * self.rng.random() ** 2)].owner_id
            if owner_id != exclude:
                return owner_id

    def _original_file(self, scene: Scene, case: str, fmt: str, forced_key: str | None, forced_value: str | None) -> FilePlan:
        rng = self.rng
        longest = rng.randint(96, 320)
        aw, ah = rng.choice(ASPECTS)
        size = (longest, max(48, round(longest * ah / aw))) if aw >= ah else (max(48, round(longest * aw / ah)), longest)
        mode, orientation, corruption = "RGB", None, None
        if case == "exif_orientation":
            orientation = rng.choice((3, 6, 8, 2))
            fmt = "jpeg" if fmt == "png" else fmt
        elif case == "grayscale":
            mode = "L"
            fmt = "png" if fmt == "webp" else fmt  # WebP has no grayscale mode
        elif case == "cmyk":
            mode, fmt = "CMYK", "jpeg"
        elif case == "alpha":
            mode = "RGBA"
            fmt = "png" if fmt == "jpeg" else fmt
        elif case in CORRUPT:
            corruption = case
        signals_possible = case not in ("zero_byte", "not_an_image")
        dmi = signals_possible and ((forced_key, forced_value) == ("meta", SIGNAL_DMI) or rng.random() < RATES["dmi"])
        cawg = signals_possible and ((forced_key, forced_value) == ("meta", SIGNAL_CAWG) or rng.random() < RATES["cawg"])
        return FilePlan(scene=scene, size=size, fmt=fmt, quality=rng.randint(70, 95), mode=mode, orientation=orientation,
                        dmi_prohibited=dmi, cawg_not_allowed=cawg, corruption=corruption)

    def _duplicate(self, source: PostPlan, case: str) -> tuple[FilePlan, Scene, str]:
        """A copy of ``source``: the same bytes, or re-encoded / resized / cropped (metadata stripped, like re-uploads)."""
        rng = self.rng
        if case in ("exact_duplicate", "repost_other_owner"):
            return source.file, source.scene, "exact_duplicate"
        w, h = source.file.size
        stripped = replace(source.file, mode="RGB", orientation=None, dmi_prohibited=False, cawg_not_allowed=False,
                           quality=rng.randint(60, 90))
        if case == "near_duplicate:cropped":
            cropped = self._crop(source.scene, w, h)
            if cropped is not None:
                box, scene = cropped
                return replace(stripped, crop=box), scene, case
            case = "near_duplicate:resized"
        if case == "near_duplicate:resized":
            f = rng.uniform(0.5, 0.8)
            return replace(stripped, resize=(max(32, round(w * f)), max(32, round(h * f)))), source.scene, case
        other_formats = [f for f in FORMATS if f != source.file.fmt]
        return replace(stripped, fmt=rng.choice(other_formats)), source.scene, "near_duplicate:reencoded"

    def _crop(self, scene: Scene, w: int, h: int) -> tuple[tuple[int, int, int, int], Scene] | None:
        """A crop that keeps every object whole, and the scene as the cropped image shows it."""
        rng = self.rng
        x0 = min(o.box[0] for o in scene.objects) * w
        y0 = min(o.box[1] for o in scene.objects) * h
        x1 = max(o.box[2] for o in scene.objects) * w
        y1 = max(o.box[3] for o in scene.objects) * h

        def cut(room: float, side: int) -> int:
            limit = int(min(room - 1, 0.08 * side))
            return rng.randint(0, limit) if limit > 0 else 0

        left, top, right, bottom = cut(x0, w), cut(y0, h), cut(w - x1, w), cut(h - y1, h)
        if left + top + right + bottom == 0:
            return None
        crop = (left, top, w - right, h - bottom)
        cw, ch = crop[2] - crop[0], crop[3] - crop[1]
        objects = tuple(
            SceneObject(
                kind=o.kind,
                colour=o.colour,
                box=(
                    round(max(0.0, (o.box[0] * w - left) / cw), 4),
                    round(max(0.0, (o.box[1] * h - top) / ch), 4),
                    round(min(1.0, (o.box[2] * w - left) / cw), 4),
                    round(min(1.0, (o.box[3] * h - top) / ch), 4),
                ),
                upside_down=o.upside_down,
            )
            for o in scene.objects
        )
        cropped = Scene(background=scene.background, objects=objects)
        # Cropping stretches distances and can create a relation; never let it create a held-out one.
        return None if is_held_out(cropped) else (crop, cropped)

    def _caption(self, scene: Scene, forced: str | None) -> tuple[str | None, list[str]]:
        rng = self.rng
        if forced == "empty" or (forced is None and rng.random() < RATES["caption_empty"]):
            return (None if rng.random() < 0.5 else ""), ["caption:empty"]
        if forced in captions.LANGUAGES or (forced is None and rng.random() < RATES["caption_foreign"]):
            language = forced if forced in captions.LANGUAGES else rng.choice(captions.LANGUAGES)
            return captions.describe_foreign(scene, language), [f"caption:lang:{language}"]
        text = captions.describe_scene(scene, rng, style="casual")
        tags = []
        if forced == "emoji" or (forced is None and rng.random() < RATES["emoji"]):
            marks = [captions.EMOJI[k] for k in (scene.background, *(o.kind for o in scene.objects)) if k in captions.EMOJI]
            text += " " + (rng.choice(marks) if marks else "✨")
            tags.append("caption:emoji")
        if forced == "mention" or (forced is None and rng.random() < RATES["mention"]):
            text = rng.choice(("for ", "thanks ", "")) + rng.choice(captions.MENTIONS) + " " + text
            tags.append("caption:mention")
        if forced == "url" or (forced is None and rng.random() < RATES["url"]):
            text += " more at " + rng.choice(captions.URLS)
            tags.append("caption:url")
        if forced == "hashtags" or (forced is None and rng.random() < RATES["hashtags"]):
            chosen = rng.sample(captions.HASHTAGS, rng.randint(1, 3)) + ["#" + scene.objects[0].kind]
            text += " " + " ".join(chosen)
            tags.append("caption:hashtags")
        return text, tags

    def _post_events(self, post: PostPlan, i: int) -> None:
        rng = self.rng
        forced = FORCED_POST_EVENTS.get(i)
        if post.deleted_at is None and (forced == "post_deleted" or rng.random() < RATES["later_post_deleted"]):
            self._event("post_deleted", post.owner_id, post.post_id)
        if forced == "visibility_changed" or rng.random() < RATES["later_visibility"]:
            new = rng.choice([v for v in VISIBILITY_WEIGHTS if v != post.visibility])
            self._event("visibility_changed", post.owner_id, post.post_id, visibility=new)
        if forced == "post_opted_out" or rng.random() < RATES["later_post_opt_out"]:
            self._event("post_opted_out", post.owner_id, post.post_id)
