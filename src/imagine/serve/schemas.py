"""Request and response models of the HTTP API (Create / Public families, as in full-stack-fastapi-template).

The hard caps come from the request type (`imagine.generate.requests`) and show in the OpenAPI schema; the
configurable, usually tighter limits (`ServeSettings.max_prompt_chars`, `max_n`, `max_steps`) are checked by
the guarded path's `Limits` at admission, with the same codes.
Request bodies are strict (`STRICT`): `"n": true` or `"n": "2"` is a 400 `invalid_request`, never coerced.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from imagine.generate.requests import MAX_GUIDANCE, MAX_IMAGES, MAX_PROMPT_CHARS, MAX_SEED, MAX_STEPS
from imagine.generate.samplers import SAMPLERS

_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def _no_controls(value: str) -> str:
    for ch in value:
        if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cs"):
            raise PydanticCustomError("control_characters", "control characters are not allowed (found {char})",
                                      {"char": f"U+{ord(ch):04X}"})
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("invalid_request", "must not be empty")
    return value


Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS, description="What to draw."),
                   AfterValidator(_no_controls), AfterValidator(_not_blank)]
NegativePrompt = Annotated[str, Field(max_length=MAX_PROMPT_CHARS), AfterValidator(_no_controls)]
# Request bodies: no coercion (a bool or a string is not a number), no unknown fields.
STRICT = ConfigDict(strict=True, extra="forbid")
SamplerName = Literal[tuple(sorted(SAMPLERS))]  # type: ignore[valid-type]


class GenerateCreate(BaseModel):
    """A native generation request."""

    model_config = STRICT

    prompt: Prompt
    n: int = Field(default=4, ge=1, le=MAX_IMAGES)
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: int | None = Field(default=None, ge=1, le=MAX_STEPS, description="Denoising steps; default from settings.")
    guidance: float | None = Field(default=None, ge=0.0, le=MAX_GUIDANCE)
    negative_prompt: NegativePrompt | None = None
    sampler: SamplerName | None = None  # type: ignore[valid-type]


class ImagePublic(BaseModel):
    id: str
    job_id: str | None
    prompt: str
    seed: int
    width: int
    height: int
    params: dict
    created_at: datetime
    url: str


class JobPublic(BaseModel):
    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    prompt: str
    params: dict
    step: int = 0
    total: int = 0
    image_ids: list[str] = []
    blocked: int = 0
    error_code: str | None = None
    error_message: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


class GenerationPublic(BaseModel):
    job: JobPublic
    images: list[ImagePublic]


class GalleryPage(BaseModel):
    images: list[ImagePublic]
    next_before: str | None = Field(description="Pass as `before` for the next page; null at the end.")


class KeyCreate(BaseModel):
    model_config = STRICT

    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_controls), AfterValidator(_not_blank)]


class KeyPublic(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The bearer token. Shown this once; only its hash is stored.")


# -- OpenAI-compatible -----------------------------------------------------------------------------------


class OpenAIImage(BaseModel):
    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class OpenAIImagesResponse(BaseModel):
    created: int
    data: list[OpenAIImage]
    background: Literal["opaque"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    quality: str | None = None
    size: str | None = None
