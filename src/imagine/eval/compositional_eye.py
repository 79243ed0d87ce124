"""Checker against eye: hand labels of generated images, and how often the scene checker agrees with them.

    imagine eval eye-agreement

``data/eye_labels/labels.jsonl`` holds one row per image in ``data/eye_labels/images/``: 120 images the
shipped default model generated for compositional-benchmark prompts (all six categories, canonical, casual
and held-out-synonym phrasings, seed and sampler recorded) and 30 true or degraded renders of other benchmark
scenes. Each was looked at, upscaled, by a person, who wrote whether it satisfies its prompt **by the
category's rule** (single object / two objects: the kinds are there; colour / colour binding: the kinds in
their colours; position: the objects there and in the stated relation; counting: exactly that many of that
kind and colour) and a note of what is visible. The checker's verdict is the category's ``passes`` on
``check_many``: the same path the benchmark scores with. Agreement = share of images where the two say the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imagine.eval.compositional import CATEGORIES
from imagine.platform.scenes import Scene

EYE_LABELS_DIR = Path(__file__).parent / "data" / "eye_labels"


@dataclass(frozen=True)
class EyeLabel:
    id: int
    image: Path
    source: str  # "generated", "true render" or "degraded render"
    category: str
    prompt: str
    scene: Scene
    satisfies: bool  # the person's verdict
    notes: str


def load_eye_labels(folder: Path = EYE_LABELS_DIR) -> list[EyeLabel]:
    """The labelled images; raises ``FileNotFoundError`` / ``ValueError`` on a missing image or unknown category."""
    labels = []
    for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        image = folder / "images" / row["file"]
        if not image.is_file():
            raise FileNotFoundError(f"eye label {row['id']}: no image {image}")
        if row["category"] not in CATEGORIES:
            raise ValueError(f"eye label {row['id']}: unknown category {row['category']!r}")
        labels.append(EyeLabel(row["id"], image, row["source"], row["category"], row["prompt"],
                               Scene.from_dict(row["scene"]), bool(row["eye"]["satisfies"]), row["eye"]["notes"]))
    return labels


@dataclass
class EyeAgreement:
    images: int
    agreement: float
    by_source: dict[str, float]
    by_category: dict[str, float]
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        rows = [f"checker vs eye: {self.agreement:.3f} agreement on {self.images} hand-labelled images", "",
                "| subset | agreement |", "|---|---|"]
        rows += [f"| {k} | {v:.3f} |" for k, v in {**self.by_source, **self.by_category}.items()]
        if self.disagreements:
            rows += ["", "disagreements:"]
            rows += [f"- #{d['id']} {d['category']}: checker {'passes' if d['checker'] else 'fails'}, eye "
                     f"{'passes' if d['eye'] else 'fails'} ({d['notes']}); detected {d['detected']}" for d in self.disagreements]
        return rows


def eye_agreement(checker: Any, labels: list[EyeLabel] | None = None) -> EyeAgreement:
    """Judge every labelled image with ``checker`` (a ``SceneChecker``) by its category's rule; compare with the eye."""
    from PIL import Image

    labels = load_eye_labels() if labels is None else labels
    if not labels:
        raise ValueError("no eye labels to compare with")
    images = []
    for label in labels:
        with Image.open(label.image) as im:
            images.append(im.convert("RGB"))
    checks = checker.check_many(images, [label.scene for label in labels])
    verdicts = [bool(CATEGORIES[label.category].passes(c)) for label, c in zip(labels, checks)]
    same = [v == label.satisfies for v, label in zip(verdicts, labels)]

    def rate(keep) -> float:
        chosen = [s for s, label in zip(same, labels) if keep(label)]
        return sum(chosen) / len(chosen)

    return EyeAgreement(
        images=len(labels),
        agreement=sum(same) / len(same),
        by_source={s: rate(lambda label, s=s: label.source == s) for s in sorted({label.source for label in labels})},
        by_category={c: rate(lambda label, c=c: label.category == c) for c in CATEGORIES if any(label.category == c for label in labels)},
        disagreements=[
            {"id": label.id, "category": label.category, "checker": v, "eye": label.satisfies, "notes": label.notes,
             "detected": ", ".join(f"{d.colour} {d.kind}" for d in c.detections) or "nothing"}
            for label, v, c, s in zip(labels, verdicts, checks, same) if not s
        ],
    )
