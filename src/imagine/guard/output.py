"""Output checks run on every generated image before it is delivered: nudity and memorization.

`OutputGuard.check` returns a verdict with machine-readable flags (``nudity:<LABEL>``,
``memorized``) and, for a near-copy, the training post it copies, for the audit log. A memorized
output is withheld by default (``memorization_action = "withhold"``) or only flagged (``"flag"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from imagine.guard.memorization import MemorizationIndex, MemorizationMatch
from imagine.guard.nudity import Detection, NudityDetector


@dataclass(frozen=True)
class OutputVerdict:
    allowed: bool
    flags: tuple[str, ...] = ()
    matched_post_id: str | None = None
    nudity: tuple[Detection, ...] = field(default=(), repr=False)
    memorization: MemorizationMatch | None = None


class OutputGuard:
    """Loaded once per process (the ONNX session and the phash index), then `check` per image."""

    def __init__(self, nudity: NudityDetector, memorization: MemorizationIndex | None, *, withhold_memorized: bool = True) -> None:
        self.nudity = nudity
        self.memorization = memorization
        self.withhold_memorized = withhold_memorized

    @classmethod
    def load(cls, dataset_dir: Path | None = None, *, settings=None) -> "OutputGuard":
        """The guard with the configured NudeNet labels; with a memorization index when ``dataset_dir`` is given."""
        from imagine.config import get_settings

        g = (settings or get_settings()).guard
        index = None
        if dataset_dir is not None:
            index = MemorizationIndex.load(Path(dataset_dir), max_distance=g.memorization_max_distance,
                                           max_rmse=g.memorization_max_rmse)
        return cls(NudityDetector(g.nudity_labels, g.nudity_threshold), index,
                   withhold_memorized=g.memorization_action == "withhold")

    def check(self, image: Image.Image) -> OutputVerdict:
        blocked = self.nudity.check(image)
        flags = [f"nudity:{label}" for label in sorted({d.label for d in blocked})]
        match = self.memorization.check(image) if self.memorization is not None else None
        if match is not None:
            flags.append("memorized")
        allowed = not blocked and not (match is not None and self.withhold_memorized)
        return OutputVerdict(allowed, tuple(flags), match.post_id if match else None, tuple(blocked), match)
