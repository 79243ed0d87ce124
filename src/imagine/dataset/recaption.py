"""Stage 5, recaption: a descriptive caption of what each image *shows*, written beside the user's caption.

Why: what people type under a photo is short and incomplete ("just a red car", no word on where things
are); a model trained only on that learns to ignore relations and colours of second objects. Training on
precise descriptive captions as well (DALL-E 3's lesson) is what makes a model follow prompts. The user's
caption stays in ``caption``; the descriptive one goes into ``descriptive_caption`` (null where the
captioner saw nothing it could name), and the trainer mixes the two at a configured ratio.

The captioner is pluggable (``load_captioner``):

- ``checker`` (the demo captioner, ``SceneCheckerCaptioner``): runs the platform's scene checker on the
  image and phrases its detections (kind, colour, orientation, centre, background) in plain English,
  relations derived from the detected centres. It never reads ``scenes.parquet``: a real platform has no
  ground truth, only the pixels.
- a local folder with a ``transformers`` image-to-text model (anything ``AutoModelForImageTextToText``
  loads and ``generate``s from pixels alone: BLIP, GIT, ViT-GPT2 ...; ``local_files_only``, nothing is
  downloaded): ``TransformersCaptioner``. Batched: ``batch_size`` images per ``generate``.
- ``none``: no descriptive captions (the column stays null).

Every descriptive caption passes ``scrub_held_out``: the benchmark's held-out synonyms ("crimson",
"automobile") are replaced by their training word, so generalising to them stays the text encoder's job.
The captioner's id and version go into the dataset card (and from there into the model card).

Like every stage the object is small and picklable; models load lazily, once per process.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence

import pyarrow as pa
from PIL import Image

from imagine.dataset import schema as s
from imagine.platform.captions import HELD_OUT_SYNONYMS, TRAINING_SYNONYMS, describe_scene
from imagine.platform.scenes import Scene, SceneObject

if TYPE_CHECKING:
    from imagine.platform.checker import Detection

COLUMN = "descriptive_caption"
MAX_OBJECTS = 4  # a scene record holds 1-4 objects; more detections keep the most confident four
MAX_RELATIONS = 3  # clauses per caption: four objects have six pairs, which would outrun the text encoder's window
_HALF_BOX = 0.08  # detections have centres, not boxes: a small box around each centre (relations use centres)

_MODELS: dict[str, object] = {}  # per-process cache: checker / transformers pipelines by key


class Captioner(Protocol):
    """Anything with an ``id``, a ``version`` and a batched ``describe``; ``None`` = nothing to say."""

    id: str
    version: str

    def describe(self, images: Sequence[Image.Image]) -> list[str | None]: ...


# ---- held-out words ----

_HELD_OUT_TO_TRAINING = {word: TRAINING_SYNONYMS[concept][0] for concept, word in HELD_OUT_SYNONYMS.items()}
_HELD_OUT_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _HELD_OUT_TO_TRAINING), key=len, reverse=True)) + r")(s?)\b",
                          re.IGNORECASE)


def scrub_held_out(text: str) -> str:
    """``text`` with every held-out synonym (and its plural) replaced by the canonical training word."""
    def swap(m: re.Match) -> str:
        word = _HELD_OUT_TO_TRAINING[m.group(1).lower()]
        return word + ("s" if m.group(2) else "")

    return _HELD_OUT_RE.sub(swap, text)


# ---- the demo captioner: the scene checker's detections in words ----

# Ways to say where one object is relative to another, beyond the canonical "the A is left of the B".
# A real recaptioner (a vision-language model) varies its wording; so does this one, so the trained
# model learns the relation, not one sentence shape. Training vocabulary only.
_RELATION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "left of": ("the {a} is to the left of the {b}", "the {b} has the {a} on its left", "the {a} sits left of the {b}"),
    "right of": ("the {a} is to the right of the {b}", "the {b} has the {a} on its right", "the {a} sits right of the {b}"),
    "above": ("the {a} is above the {b}", "the {a} is over the {b}", "the {b} is under the {a}"),
    "below": ("the {a} is below the {b}", "the {a} is under the {b}", "the {b} is over the {a}"),
}


def scene_from_detections(detections: Sequence["Detection"], background: str) -> Scene | None:
    """A scene record built from what the detector saw (None when it saw no object)."""
    best = sorted(detections, key=lambda d: -d.score)[:MAX_OBJECTS]
    if not best:
        return None
    objects = []
    for d in best:
        cx = min(max(d.centre[0], _HALF_BOX), 1 - _HALF_BOX)
        cy = min(max(d.centre[1], _HALF_BOX), 1 - _HALF_BOX)
        box = (round(cx - _HALF_BOX, 4), round(cy - _HALF_BOX, 4), round(cx + _HALF_BOX, 4), round(cy + _HALF_BOX, 4))
        objects.append(SceneObject(kind=d.kind, colour=d.colour, box=box, upside_down=d.upside_down))
    # Left to right, so "a red car and a green tree" reads in the picture's order.
    objects.sort(key=lambda o: (o.centre[0], o.centre[1]))
    return Scene(background=background, objects=tuple(objects))


def phrase_scene(scene: Scene, rng: random.Random) -> str:
    """Objects and background (canonical words), then every unambiguous relation, in varied wording."""
    head = describe_scene(scene).split("; ")[0]
    names = {}
    for i, o in enumerate(scene.objects):
        flipped = "upside-down " if o.upside_down else ""
        names[i] = f"{flipped}{o.colour} {o.kind}"
    clauses, seen = [], set()
    for i, rel, j in scene.relations():
        a, b = names[i], names[j]
        if a == b or frozenset((a, b)) in seen:
            continue
        seen.add(frozenset((a, b)))
        clauses.append(rng.choice(_RELATION_TEMPLATES[rel]).format(a=a, b=b))
        if len(clauses) == MAX_RELATIONS:
            break
    return "; ".join([head, *clauses])


@dataclass(frozen=True)
class SceneCheckerCaptioner:
    """Describes images by the scene checker's detections (``checker_dir``: None = the shipped checker)."""

    checker_dir: str | None = None
    batch_size: int = 256
    id: str = field(default="scene-checker", init=False)

    @property
    def version(self) -> str:
        from imagine.platform.checker_train import DEFAULT_CHECKER_DIR

        weights = Path(self.checker_dir or DEFAULT_CHECKER_DIR) / "model.safetensors"
        return hashlib.sha256(weights.read_bytes()).hexdigest()[:12]

    def _checker(self):
        from imagine.platform.checker import SceneChecker

        key = f"checker:{self.checker_dir}"
        if key not in _MODELS:
            _MODELS[key] = SceneChecker.load(Path(self.checker_dir) if self.checker_dir else None)
        return _MODELS[key]

    def describe(self, images: Sequence[Image.Image]) -> list[str | None]:
        checker = self._checker()
        out: list[str | None] = []
        for lo in range(0, len(images), self.batch_size):
            chunk = images[lo : lo + self.batch_size]
            for image, (detections, background) in zip(chunk, checker.detect(chunk)):
                scene = scene_from_detections(detections, background)
                # The wording is seeded by the pixels: the same image always gets the same caption.
                seed = hashlib.sha256(image.tobytes()).hexdigest()
                out.append(None if scene is None else phrase_scene(scene, random.Random(seed)))
        return out


# ---- an operator's own captioner: a local transformers image-to-text folder ----

@dataclass(frozen=True)
class TransformersCaptioner:
    """Any local ``transformers`` image-to-text model folder (nothing is downloaded)."""

    folder: str
    batch_size: int = 16
    max_new_tokens: int = 40

    @property
    def id(self) -> str:
        return Path(self.folder).name

    @property
    def version(self) -> str:
        """sha256 over the folder's config and weight files (names and bytes), first 12 hex digits."""
        h = hashlib.sha256()
        for path in sorted(Path(self.folder).rglob("*")):
            if path.is_file() and path.suffix in (".json", ".safetensors", ".bin", ".txt", ".model"):
                h.update(path.relative_to(self.folder).as_posix().encode())
                h.update(path.read_bytes())
        return h.hexdigest()[:12]

    def _parts(self):
        """(image processor, tokenizer, model), loaded once per process from the folder alone."""
        key = f"transformers:{self.folder}"
        if key not in _MODELS:
            from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

            local = {"local_files_only": True}
            _MODELS[key] = (AutoImageProcessor.from_pretrained(self.folder, **local),
                            AutoTokenizer.from_pretrained(self.folder, **local),
                            AutoModelForImageTextToText.from_pretrained(self.folder, **local).eval())
        return _MODELS[key]

    def describe(self, images: Sequence[Image.Image]) -> list[str | None]:
        import torch

        processor, tokenizer, model = self._parts()
        texts: list[str] = []
        for lo in range(0, len(images), self.batch_size):
            pixels = processor(images=list(images[lo : lo + self.batch_size]), return_tensors="pt").pixel_values
            with torch.inference_mode():
                ids = model.generate(pixel_values=pixels.to(model.dtype), max_new_tokens=self.max_new_tokens, do_sample=False)
            texts += [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
        return [t or None for t in texts]


def load_captioner(spec: str | Path | None) -> Captioner | None:
    """``"checker"`` (the demo captioner), ``"none"``/None, or a local transformers image-to-text folder."""
    if spec is None or str(spec) == "none":
        return None
    if str(spec) == "checker":
        return SceneCheckerCaptioner()
    folder = Path(spec)
    if not (folder / "config.json").is_file():
        raise ValueError(f"captioner {str(spec)!r} is not 'checker', 'none' or a local model folder with config.json")
    return TransformersCaptioner(str(folder))


def captioner_card(captioner: Captioner | None) -> dict[str, str] | None:
    """What the dataset card and the model card record about the captioner."""
    return None if captioner is None else {"id": captioner.id, "version": captioner.version}


@dataclass
class RecaptionStage:
    """Adds ``descriptive_caption`` to every still-included row (null when the captioner saw nothing)."""

    captioner: Captioner
    threads: int | None = 1  # torch threads per worker: pool workers would otherwise each take every core

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.threads:
            import torch

            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
        included = batch.column("included").to_pylist()
        pngs = batch.column("image").to_pylist()
        rows = [i for i, ok in enumerate(included) if ok and pngs[i] is not None]
        images = []
        for i in rows:
            with Image.open(io.BytesIO(pngs[i])) as img:
                images.append(img.convert("RGB"))
        texts = self.captioner.describe(images) if images else []
        if len(texts) != len(rows):
            raise RuntimeError(f"captioner {self.captioner.id} returned {len(texts)} captions for {len(rows)} images")
        out: list[str | None] = [None] * batch.num_rows
        for i, text in zip(rows, texts):
            out[i] = scrub_held_out(text) if text else None
        return s.set_column(batch, COLUMN, pa.array(out, pa.string()))
