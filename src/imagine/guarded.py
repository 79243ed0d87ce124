"""One guarded path from a request to delivered images: admit → generate → check → stamp → sink.

    guarded = GuardedGenerator.from_settings(settings)            # built once: model, policy, output guard, stamper
    paths = guarded([guarded.request("a red circle above a blue car", n=2)], FolderSink(Path("out")))

Every caller that hands images to people goes through this object: the service's worker (which only decides
*when* a batch runs: queue, fairness, batching) with the database as its sink, the arena's other models
(each a second `GuardedGenerator` on the same worker) and `imagine generate --provenance` with a folder sink.
So a prompt the policy refuses, an output the guard withholds and the provenance stamp are the same everywhere.

The steps are also public one by one (`admit`, `generate`, `finish`), because the worker runs them at different
moments: admission when the request arrives, one batched `generate` for many users' requests, and `finish`
(check, stamp, sink) per request in a small pool beside the next batch's denoising.

A new kind of request (image-to-image, masked edits) is more fields on `GenerationRequest` with their own
`batch_key`; nothing here changes, except that a stamper may record the input as an ingredient.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, TypeVar

from imagine.atomic import atomic_write
from imagine.generate.requests import (MAX_GUIDANCE, MAX_IMAGES, MAX_PROMPT_CHARS, MAX_STEPS, GenerationRequest,
                                       GenerationResult)
from imagine.guard.metadata import GenerationInfo, SourceImage
from imagine.guard.output import OutputGuard, OutputVerdict
from imagine.guard.policy import PolicyDecision, PromptPolicy
from imagine.guard.provenance import Stamper

if TYPE_CHECKING:
    from imagine.config import GenerateSettings, ServeSettings, Settings
    from imagine.generate.core import Generator, OnStep

__all__ = ["FolderSink", "GuardedGenerator", "Limits", "Outcome", "Refused", "Sink", "StampedImage"]

log = logging.getLogger(__name__)
T = TypeVar("T", covariant=True)


class Refused(Exception):
    """A request the guarded path will not run. ``code`` is the service's stable error code
    (``invalid_request``, ``prompt_too_long``, ``content_policy_violation``), ``param`` the field at fault,
    ``decision`` the policy's verdict when the policy refused."""

    def __init__(self, code: str, message: str, *, param: str | None = None,
                 decision: "PolicyDecision | None" = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param, self.decision = code, message, param, decision


@dataclass(frozen=True)
class Limits:
    """How much one request may ask for. The request type holds the absolute caps; a deployment sets tighter
    ones (`ServeSettings.max_prompt_chars`, `max_n`, `max_steps`), checked here and nowhere else."""

    max_prompt_chars: int = MAX_PROMPT_CHARS
    max_n: int = MAX_IMAGES
    max_steps: int = MAX_STEPS
    max_guidance: float = MAX_GUIDANCE

    @classmethod
    def from_serve(cls, serve: "ServeSettings") -> "Limits":
        return cls(max_prompt_chars=min(serve.max_prompt_chars, MAX_PROMPT_CHARS), max_n=min(serve.max_n, MAX_IMAGES),
                   max_steps=min(serve.max_steps, MAX_STEPS))

    def check(self, request: GenerationRequest) -> None:
        if len(request.prompt) > self.max_prompt_chars:
            raise Refused("prompt_too_long", f"The prompt has {len(request.prompt)} characters; the limit is "
                          f"{self.max_prompt_chars}.", param="prompt")
        if request.negative_prompt is not None and len(request.negative_prompt) > self.max_prompt_chars:
            raise Refused("prompt_too_long", f"The negative prompt is longer than {self.max_prompt_chars} characters.",
                          param="negative_prompt")
        if request.n > self.max_n:
            raise Refused("invalid_request", f"n must be at most {self.max_n}.", param="n")
        if request.steps > self.max_steps:
            raise Refused("invalid_request", f"steps must be at most {self.max_steps}.", param="steps")
        if request.guidance > self.max_guidance:
            raise Refused("invalid_request", f"guidance must be at most {self.max_guidance:g}.", param="guidance")


@dataclass(frozen=True)
class StampedImage:
    """One delivered image: the stamped PNG, its seed, what provenance recorded, and any flags the output
    guard raised without withholding it (e.g. ``memorized`` when memorization only flags)."""

    png: bytes
    seed: int
    info: GenerationInfo
    flags: tuple[str, ...] = ()

    @property
    def size(self) -> tuple[int, int]:
        return int(self.info.width or 0), int(self.info.height or 0)


@dataclass
class Outcome:
    """What one request came to: the images delivered and the verdicts of those withheld."""

    request: GenerationRequest
    model_id: str
    images: list[StampedImage] = field(default_factory=list)
    withheld: list["OutputVerdict"] = field(default_factory=list)

    @property
    def withheld_flags(self) -> list[str]:
        return [str(flag) for verdict in self.withheld for flag in (verdict.flags or ("unspecified",))]


class Sink(Protocol[T]):
    """Where delivered images go: a folder, the service's database and image store, anything callable."""

    def __call__(self, outcome: Outcome) -> T: ...


class GuardedGenerator:
    """A generator wrapped in everything that must happen around it. Built once; safe to share across threads
    (the generator runs one call at a time, the guard and stamper are per image)."""

    def __init__(self, *, generator: "Generator", policy: "PromptPolicy", output_guard: "OutputGuard",
                 stamper: "Stamper", limits: Limits = Limits(), defaults: "GenerateSettings | None" = None) -> None:
        self.generator, self.policy, self.output_guard, self.stamper = generator, policy, output_guard, stamper
        self.limits = limits
        self.defaults = defaults

    @classmethod
    def from_settings(cls, settings: "Settings", *, model: Path | str | None = None, lora: Path | None = None,
                      limits: Limits = Limits(), generator: "Generator | None" = None,
                      policy: "PromptPolicy | None" = None, output_guard: "OutputGuard | None" = None,
                      stamper: "Stamper | None" = None) -> "GuardedGenerator":
        """Every part from ``settings`` (the model: ``model``, else the configured one); parts passed in are
        used as they are, so several guarded generators can share one policy, guard and stamper."""
        from imagine.generate.core import Generator  # imports torch: only when a model is loaded here

        return cls(generator=generator or Generator.load(model if model is not None else settings.model_path, lora=lora),
                   policy=policy or PromptPolicy.load(settings=settings),
                   output_guard=output_guard or OutputGuard.load(settings.serve.guard_dataset, settings=settings),
                   stamper=stamper or Stamper.from_settings(settings), limits=limits, defaults=settings.generate)

    @property
    def model_id(self) -> str:
        return self.generator.model_id

    def request(self, prompt: str, **fields: Any) -> GenerationRequest:
        """A request with the configured defaults for ``steps``, ``guidance`` and ``sampler`` left as None;
        a value the request type rejects is `Refused` with ``invalid_request``."""
        if self.defaults is not None:
            for name in ("steps", "guidance", "sampler"):
                if fields.get(name) is None:
                    fields[name] = getattr(self.defaults, name)
        fields = {k: v for k, v in fields.items() if v is not None}
        try:
            return GenerationRequest(prompt=prompt, **fields)
        except ValueError as exc:
            raise Refused("invalid_request", str(exc)) from exc

    # -- the path -----------------------------------------------------------------------------------------
    def __call__(self, requests: Sequence[GenerationRequest], sink: "Sink[T]", *, on_step: "OnStep | None" = None,
                 cancelled: Callable[[], bool] | None = None) -> list[T]:
        """Run ``requests`` end to end in one batched call; what ``sink`` returned, per request, in order."""
        for request in requests:
            self.admit(request)                                                     # 1. admit
        results = self.generate(requests, on_step=on_step, cancelled=cancelled)     # 2. generate (one batch)
        return [self.finish(result, sink) for result in results]                    # 3.-5. check, stamp, sink

    def admit(self, request: GenerationRequest) -> None:
        """Refuse before any model work: the deployment's limits, the prompt policy, and an edit's input image
        through the same checks as an output (nudity; a near-copy of a training photo)."""
        self.limits.check(request)
        if request.init_image is not None:
            verdict = self.output_guard.check(request.init_image)
            if not verdict.allowed:
                if verdict.matched_post_id is not None:
                    log.warning("edit input refused as a near-copy of training post %s", verdict.matched_post_id)
                raise Refused("content_policy_violation", "The input image was refused by the image checks "
                              f"({', '.join(verdict.flags) or 'unspecified'}).", param="image")
        for text, param in ((request.prompt, "prompt"), (request.negative_prompt, "negative_prompt")):
            if not text:
                continue
            decision = self.policy.check(text)
            # A negative prompt steers *away* from what it names ("nsfw, nude" is a common safety negative),
            # so only likeness is refused there: naming a protected person is not acceptable either way.
            if param == "negative_prompt" and not str(decision.code or "").startswith("likeness."):
                continue
            if not decision.allowed:
                raise Refused("content_policy_violation", f"Your request was refused by the content policy "
                              f"({decision.category}): {decision.reason}", param=param, decision=decision)

    def generate(self, requests: Sequence[GenerationRequest], *, on_step: "OnStep | None" = None,
                 cancelled: Callable[[], bool] | None = None, previews: bool = True) -> list[GenerationResult]:
        """The generator's batched call (requests sharing `GenerationRequest.batch_key` denoise together)."""
        return self.generator.generate(list(requests), on_step=on_step, cancelled=cancelled, previews=previews)

    def finish(self, result: GenerationResult, sink: "Sink[T]") -> T:
        """Check every image, stamp those allowed, hand the outcome to ``sink``."""
        request = result.request
        if request is None:
            raise ValueError("a GenerationResult without its request cannot be delivered")
        outcome = Outcome(request=request, model_id=result.model_id)
        for image, seed in zip(result.images, result.seeds, strict=True):
            verdict = self.output_guard.check(image)                                # 3. check
            if not verdict.allowed:
                if verdict.matched_post_id is not None:  # the audit trail: which training post it copied
                    log.warning("output withheld as a near-copy of training post %s", verdict.matched_post_id)
                outcome.withheld.append(verdict)
                continue
            info = GenerationInfo(prompt=request.prompt, model_id=result.model_id, seed=seed, steps=request.steps,
                                  guidance=request.guidance, sampler=request.sampler,
                                  negative_prompt=request.negative_prompt, source=source_of(request),
                                  strength=request.effective_strength if request.is_edit else None)
            png = self.stamper.stamp(image, info)                                   # 4. stamp
            outcome.images.append(StampedImage(png=png, seed=seed, info=info, flags=tuple(verdict.flags)))
        return sink(outcome)                                                        # 5. sink


class FolderSink:
    """Writes each delivered PNG as ``out/<i>-<slug>-<seed>.png``, ``i`` counting outcomes in arrival order
    (the order of the requests, for `GuardedGenerator.__call__`); returns the paths written."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.count = 0

    def __call__(self, outcome: Outcome) -> list[Path]:
        index, self.count = self.count, self.count + 1
        paths = []
        for image in outcome.images:
            path = self.out / f"{index:02d}-{slug(outcome.request.prompt)}-{image.seed}.png"
            atomic_write(path, image.png)
            paths.append(path)
        return paths


def source_of(request: GenerationRequest) -> SourceImage | None:
    """An edit's input as its C2PA ingredient: the bytes it arrived as, else the decoded input as PNG."""
    if request.init_image is None:
        return None
    if request.source is not None:
        return request.source
    buffer = io.BytesIO()
    request.init_image.save(buffer, format="PNG")
    return SourceImage(buffer.getvalue(), "image/png", "input.png")


def slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "prompt"
