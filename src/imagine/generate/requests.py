"""What a caller asks for (`GenerationRequest`) and what it gets back (`GenerationResult`).

Requests are validated when built, so the CLI, the web form and the API all reject bad input with
the same clear message before any model work starts.

An edit is a request with an ``init_image``: image-to-image (SDEdit: the image is noised to
``strength`` and denoised with the prompt), a masked edit when ``mask`` is given too (white = repaint,
black = keep; outside the mask the result is the input's own pixels), and a variation when the prompt
is empty (or the source's own prompt).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imagine.generate.samplers import SAMPLERS

if TYPE_CHECKING:
    from PIL import Image

    from imagine.guard.metadata import SourceImage

MAX_PROMPT_CHARS = 500
MAX_IMAGES = 16
MAX_STEPS = 150
MAX_GUIDANCE = 30.0
MAX_SEED = 2**63 - 1 - MAX_IMAGES  # image i uses seed + i, which must stay a valid torch seed
# How far an edit departs from its input when the caller does not say: a plain image-to-image edit keeps
# the composition, a masked edit redraws the masked area from noise, a variation keeps the gist.
DEFAULT_STRENGTH = 0.75
DEFAULT_MASKED_STRENGTH = 1.0
DEFAULT_VARIATION_STRENGTH = 0.6


class GenerationCancelled(Exception):
    """Raised by `Generator.generate` when its ``cancelled()`` callback turned true between two steps."""


@dataclass(frozen=True)
class GenerationRequest:
    """``n`` images of one prompt; image ``i`` is seeded with ``seed + i`` (a random seed when ``seed`` is None).

    Edits: ``init_image`` (RGB) is the input, ``mask`` (mode "L", same size; 255 = repaint) limits the edit,
    ``strength`` in (0, 1] is how much of the denoising is redone (1 = from pure noise); None means
    `DEFAULT_MASKED_STRENGTH` with a mask, else `DEFAULT_STRENGTH`. An empty prompt is allowed for edits only
    (a variation without a prompt). ``source`` keeps the input's original bytes for the C2PA ingredient.
    """

    prompt: str
    n: int = 4
    seed: int | None = None
    steps: int = 20
    guidance: float = 4.0
    negative_prompt: str | None = None
    sampler: str = "dpmpp"
    init_image: "Image.Image | None" = field(default=None, compare=False, repr=False)
    mask: "Image.Image | None" = field(default=None, compare=False, repr=False)
    strength: float | None = None
    source: "SourceImage | None" = field(default=None, compare=False, repr=False)  # the input's bytes, for provenance

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or (not self.prompt.strip() and self.init_image is None):
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
        self._check_edit()

    def _check_edit(self) -> None:
        if self.init_image is None:
            if self.mask is not None or self.strength is not None:
                raise ValueError("mask and strength need an input image (init_image)")
            return
        if self.strength is not None and (
            isinstance(self.strength, bool) or not isinstance(self.strength, (int, float))
            or not 0.0 < float(self.strength) <= 1.0
        ):
            raise ValueError(f"strength must be a number in (0, 1], got {self.strength!r}")
        if self.init_image.mode != "RGB":
            raise ValueError(f"init_image must be an RGB image, got mode {self.init_image.mode!r}")
        if self.mask is not None:
            if self.mask.mode != "L":
                raise ValueError(f"mask must be a greyscale (mode 'L') image, got mode {self.mask.mode!r}")
            if self.mask.size != self.init_image.size:
                raise ValueError(f"mask is {self.mask.size[0]}x{self.mask.size[1]} but the image is "
                                 f"{self.init_image.size[0]}x{self.init_image.size[1]}; they must match")
            if self.mask.getextrema()[1] < 128:
                raise ValueError("mask marks nothing to edit (no pixel is white); white = repaint, black = keep")

    @property
    def is_edit(self) -> bool:
        return self.init_image is not None

    @property
    def effective_strength(self) -> float:
        """The strength the generator uses (1.0 for text-to-image: everything is denoised)."""
        if self.init_image is None:
            return 1.0
        if self.strength is not None:
            return float(self.strength)
        return DEFAULT_MASKED_STRENGTH if self.mask is not None else DEFAULT_STRENGTH

    def start_step(self) -> int:
        """How many of the ``steps`` an edit skips (diffusers' img2img rule: ``steps - int(steps * strength)``)."""
        return self.steps - max(1, min(int(self.steps * self.effective_strength), self.steps))

    def batch_key(self) -> tuple[int, str, bool, int]:
        """Requests with equal keys denoise alike (same timesteps, sampler, guided or not, first step of an edit),
        so they run as one batch: the generator groups by it and the service's queue batches by it."""
        return (self.steps, self.sampler, self.guidance != 1.0, self.start_step())

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
