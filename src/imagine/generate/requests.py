"""What a caller asks for (`GenerationRequest`) and what it gets back (`GenerationResult`).

Requests are validated when built, so the CLI, the web form and the API all reject bad input with
the same clear message before any model work starts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imagine.generate.samplers import SAMPLERS

if TYPE_CHECKING:
    from PIL import Image

MAX_PROMPT_CHARS = 500
MAX_IMAGES = 16
MAX_STEPS = 150
MAX_GUIDANCE = 30.0
MAX_SEED = 2**63 - 1 - MAX_IMAGES  # image i uses seed + i, which must stay a valid torch seed


class GenerationCancelled(Exception):
    """Raised by `Generator.generate` when its ``cancelled()`` callback turned true between two steps."""


@dataclass(frozen=True)
class GenerationRequest:
    """``n`` images of one prompt; image ``i`` is seeded with ``seed + i`` (a random seed when ``seed`` is None)."""

    prompt: str
    n: int = 4
    seed: int | None = None
    steps: int = 20
    guidance: float = 4.0
    negative_prompt: str | None = None
    sampler: str = "dpmpp"

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise ValueError("prompt must be a non-empty string")
        if len(self.prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"prompt is {len(self.prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
        if self.negative_prompt is not None and len(self.negative_prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"negative prompt is {len(self.negative_prompt)} characters; the limit is {MAX_PROMPT_CHARS}")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= MAX_IMAGES:
            raise ValueError(f"n must be an integer from 1 to {MAX_IMAGES}, got {self.n!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be an integer from 1 to {MAX_STEPS}, got {self.steps!r}")
        if not isinstance(self.guidance, (int, float)) or not 0.0 <= float(self.guidance) <= MAX_GUIDANCE:
            raise ValueError(f"guidance must be a number from 0 to {MAX_GUIDANCE}, got {self.guidance!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED):
            raise ValueError(f"seed must be an integer from 0 to {MAX_SEED}, got {self.seed!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; known samplers: {', '.join(sorted(SAMPLERS))}")

    def batch_key(self) -> tuple[int, str, bool]:
        """Requests with equal keys denoise alike (same timesteps, sampler, guided or not), so they run as one
        batch: the generator groups by it and the service's queue batches by it."""
        return (self.steps, self.sampler, self.guidance != 1.0)

    def seeds(self) -> list[int]:
        """The per-image seeds; call once per generation (a None seed draws a fresh random base)."""
        base = self.seed if self.seed is not None else secrets.randbelow(2**31)
        return [base + i for i in range(self.n)]


@dataclass
class GenerationResult:
    """The images of one request, their seeds, the model that made them and where the time went.

    ``timings`` (seconds) are those of the batched call the request ran in: ``text_encoding``,
    ``denoising``, ``postprocessing`` and ``total``; ``batch_images`` is how many images shared it.
    """

    images: list["Image.Image"]
    seeds: list[int]
    model_id: str
    timings: dict[str, float]
    request: GenerationRequest | None = field(default=None, repr=False)
