"""Nudity check with NudeNet: its 320n ONNX detector ships inside the wheel, so it runs offline.

Detections are boxes with one of NudeNet's 18 labels (exposed/covered body parts, faces) and a
score; an image is blocked when any detection of a *blocked* label scores at or above the
threshold. Which labels block is the operator's choice (``[guard] nudity_labels``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
from PIL import Image

# NudeNet 3.4's label set, for validating configuration (a typo would otherwise block nothing).
NUDENET_LABELS = frozenset({
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED", "BELLY_COVERED",
    "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE", "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED",
})


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[int, int, int, int]  # x, y, w, h in image pixels


def blocking(detections: Iterable[Detection], labels: Iterable[str], threshold: float) -> list[Detection]:
    """The detections that block an image: a blocked label at or above the threshold."""
    wanted = set(labels)
    return [d for d in detections if d.label in wanted and d.score >= threshold]


class NudityDetector:
    """NudeNet's detector plus the operator's labels and threshold."""

    def __init__(self, labels: Iterable[str], threshold: float) -> None:
        from nudenet import NudeDetector

        self.labels = tuple(labels)
        unknown = set(self.labels) - NUDENET_LABELS
        if unknown:
            raise ValueError(f"unknown NudeNet labels {sorted(unknown)}; known: {sorted(NUDENET_LABELS)}")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"nudity threshold must be in [0, 1], got {threshold}")
        self.threshold = threshold
        self._detector = NudeDetector()  # loads the ONNX model bundled in the nudenet wheel

    def detect(self, image: Image.Image) -> list[Detection]:
        """Every NudeNet detection (score >= 0.2, its own floor), whatever the configured labels."""
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # what cv2.imread gives
        return [Detection(d["class"], float(d["score"]), tuple(int(v) for v in d["box"]))
                for d in self._detector.detect(bgr)]

    def check(self, image: Image.Image) -> list[Detection]:
        """The detections that block ``image`` (empty: allowed)."""
        return blocking(self.detect(image), self.labels, self.threshold)
