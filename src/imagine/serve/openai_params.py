"""Every parameter of the OpenAI Images API, and what this server does with it: supported, mapped, or refused.

One table (`PARAMS`) drives both the validation of ``/v1/images/generations``, ``/v1/images/edits`` and
``/v1/images/variations`` and the table in docs/api.md (a test compares the two, and sends every refused value
to a real server). Nothing is accepted and ignored: a value we cannot honour, an unknown extra such as
``steps`` and a model we do not serve are all HTTP 400 naming the parameter and what is supported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic_core import PydanticCustomError

from imagine.generate.requests import MAX_PROMPT_CHARS, MAX_SEED
from imagine.guard.provenance import OUTPUT_FORMATS
from imagine.serve.errors import ApiError
from imagine.serve.schemas import _no_controls as no_controls

Endpoint = Literal["generations", "edits", "variations"]
ALL: tuple[Endpoint, ...] = ("generations", "edits", "variations")

# `quality` -> denoising steps ("auto": the configured `generate.steps`). More steps, finer detail, more time.
QUALITY_STEPS = {"low": 10, "medium": 20, "high": 40}
MAX_PARTIAL_IMAGES = 3


@dataclass(frozen=True)
class Param:
    """``status``: supported (as OpenAI documents it), mapped (honoured through our own equivalent), refused (every
    value, or the values listed in ``refused``, answer 400). ``values``: the accepted values, for the docs."""

    name: str
    endpoints: tuple[Endpoint, ...]
    status: Literal["supported", "mapped", "refused"]
    values: str
    note: str
    refused: tuple[str, ...] = field(default=())


PARAMS: tuple[Param, ...] = (
    Param("prompt", ("generations", "edits"), "supported", f"1-{MAX_PROMPT_CHARS} characters",
          "checked by the prompt policy"),
    Param("image", ("edits", "variations"), "supported", "PNG, JPEG or WebP file(s); edits take several",
          "opened safely (byte and pixel caps before decoding) and checked like an output; several images are "
          "edited one by one, `n` results each"),
    Param("mask", ("edits",), "supported", "PNG with alpha, the image's size",
          "fully transparent pixels are edited; outside them the result keeps the input's pixels; first image only"),
    Param("model", ALL, "mapped", "the served model's id (default)", "any other model is refused",
          refused=("dall-e-2", "dall-e-3", "gpt-image-1")),
    Param("n", ALL, "supported", "1 to `serve.max_n`", "per input image for edits"),
    Param("size", ALL, "supported", "`auto` or the delivered size (`256x256` by default)", "other sizes are refused",
          refused=("1024x1024",)),
    Param("response_format", ALL, "supported", "`b64_json` (default), `url`",
          "`url` serves the stored PNG, so it needs `output_format=png`"),
    Param("output_format", ("generations", "edits"), "supported", "`png` (default), `jpeg`, `webp`",
          "JPEG/WebP are signed C2PA transcodes of the stamped PNG", refused=("gif", "svg")),
    Param("output_compression", ("generations", "edits"), "supported", "0-100 with `jpeg`/`webp` (default 100)",
          "refused with `png`"),
    Param("quality", ("generations", "edits"), "mapped",
          "`auto` (configured steps), " + ", ".join(f"`{k}` ({v} steps)" for k, v in QUALITY_STEPS.items()),
          "mapped to denoising steps", refused=("standard", "hd", "xhigh", "max")),
    Param("background", ("generations", "edits"), "supported", "`auto`, `opaque`",
          "images are always opaque", refused=("transparent",)),
    Param("style", ("generations",), "refused", "none", "describe the style in the prompt",
          refused=("vivid", "natural")),
    Param("moderation", ("generations",), "supported", "`auto`",
          "the prompt policy and output checks always run", refused=("low",)),
    Param("input_fidelity", ("edits",), "refused", "none", "no such control on this model", refused=("high", "low")),
    Param("stream", ("generations", "edits"), "supported", "`true`, `false`",
          "server-sent `partial_image` and `completed` events; one input image"),
    Param("partial_images", ("generations", "edits"), "supported", f"0-{MAX_PARTIAL_IMAGES} with `stream=true`",
          "the current estimate, through the output checks and stamped like a final image"),
    Param("user", ALL, "mapped", "up to 256 characters", "recorded with the job (`end_user`) for abuse review"),
    Param("safety_identifier", ALL, "mapped", "up to 256 characters", "as `user`"),
    Param("seed", ALL, "supported", f"0-{MAX_SEED} (extra)", "image i uses seed + i"),
    Param("negative_prompt", ("generations", "edits"), "supported", "text (extra)", "what to steer away from"),
    Param("strength", ("edits",), "supported", "(0, 1] (extra)",
          "how much is redrawn: 0.75 by default, 1.0 with a mask"),
)
BY_NAME = {p.name: p for p in PARAMS}


@dataclass
class Resolved:
    """The validated parameters of one call, with OpenAI's defaults."""

    prompt: str = ""
    n: int = 1
    steps: int | None = None
    quality: str = "auto"
    response_format: str = "b64_json"
    output_format: str = "png"
    output_compression: int = 100
    background: str = "opaque"
    stream: bool = False
    partial_images: int = 0
    seed: int | None = None
    negative_prompt: str | None = None
    strength: float | None = None
    end_user: str | None = None
    size: str = "auto"


def _bad(name: str, message: str) -> ApiError:
    return ApiError("invalid_request", f"{name}: {message}", param=name)


def _int(name: str, value: Any, lo: int, hi: int, *, text: bool = False) -> int:
    if text and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(name, f"must be an integer from {lo} to {hi}; got {value!r}.")
    return value


def _bool(name: str, value: Any, *, text: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if text and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(name, f"must be true or false; got {value!r}.")


def _str(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _bad(name, f"must be text of at most {limit} characters.")
    try:
        return no_controls(value)
    except PydanticCustomError as exc:
        raise ApiError("control_characters", f"{name}: {exc}", param=name) from exc


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _bad(name, f"{value!r} is not supported; supported: {', '.join(allowed)}.")
    return value


def resolve(endpoint: Endpoint, fields: dict[str, Any], *, model_id: str, delivered_size: int, max_n: int,
            default_steps: int, text: bool = False) -> Resolved:
    """Validate ``fields`` for ``endpoint``; raise a 400 naming the parameter. JSON values are strict (``"2"`` is
    not a number); ``text`` (multipart fields) reads numbers and booleans from their text."""
    offered = sorted(p.name for p in PARAMS if endpoint in p.endpoints)
    out = Resolved()
    for name in fields:
        if name not in offered or name in ("image", "mask"):
            raise ApiError("invalid_request", f"Unknown parameter {name!r} for /v1/images/{endpoint}; supported: "
                           f"{', '.join(offered)}.", param=name)
    values = {k: v for k, v in fields.items() if v is not None}
    if endpoint in ("generations", "edits"):
        if "prompt" not in values:
            raise _bad("prompt", "is required.")
        out.prompt = _str("prompt", values["prompt"], MAX_PROMPT_CHARS)
    if "model" in values and values["model"] != model_id:
        raise _bad("model", f"{values['model']!r} is not served here; supported: {model_id!r} (or omit model).")
    if "n" in values:
        out.n = _int("n", values["n"], 1, max_n, text=text)
    side = f"{delivered_size}x{delivered_size}"
    if "size" in values and values["size"] not in ("auto", side):
        raise ApiError("invalid_size", f"size: {values['size']!r} is not supported; supported: auto, {side} "
                       "(the delivered size).", param="size")
    if "response_format" in values:
        out.response_format = _choice("response_format", values["response_format"], ("b64_json", "url"))
    if "output_format" in values:
        out.output_format = _choice("output_format", values["output_format"], tuple(OUTPUT_FORMATS))
    if "output_compression" in values:
        out.output_compression = _int("output_compression", values["output_compression"], 0, 100, text=text)
        if out.output_format == "png":
            raise _bad("output_compression", "applies to jpeg and webp only; output_format is png.")
    if out.response_format == "url" and out.output_format != "png":
        raise _bad("response_format", "url serves the stored PNG; ask for b64_json to get jpeg or webp.")
    if "quality" in values:
        out.quality = _choice("quality", values["quality"], ("auto", *QUALITY_STEPS))
    out.steps = QUALITY_STEPS.get(out.quality, default_steps)
    if "background" in values:
        out.background = _choice("background", values["background"], ("auto", "opaque"))
    if "style" in values:
        raise _bad("style", f"{values['style']!r} is not supported (no style control); describe the style in the prompt.")
    if "moderation" in values:
        _choice("moderation", values["moderation"], ("auto",))
    if "input_fidelity" in values:
        raise _bad("input_fidelity", f"{values['input_fidelity']!r} is not supported; omit input_fidelity.")
    if "stream" in values:
        out.stream = _bool("stream", values["stream"], text=text)
    if "partial_images" in values:
        out.partial_images = _int("partial_images", values["partial_images"], 0, MAX_PARTIAL_IMAGES, text=text)
        if not out.stream:
            raise _bad("partial_images", "needs stream=true.")
    for name in ("safety_identifier", "user"):
        if values.get(name):
            out.end_user = out.end_user or _str(name, values[name], 256)
    if "seed" in values:
        out.seed = _int("seed", values["seed"], 0, MAX_SEED, text=text)
    if "negative_prompt" in values:
        out.negative_prompt = _str("negative_prompt", values["negative_prompt"], MAX_PROMPT_CHARS) or None
    if "strength" in values:
        raw = values["strength"]
        try:
            if isinstance(raw, bool) or not (isinstance(raw, (int, float)) or (text and isinstance(raw, str))):
                raise TypeError
            out.strength = float(raw)
        except (TypeError, ValueError):
            raise _bad("strength", f"must be a number in (0, 1]; got {values['strength']!r}.") from None
        if not 0.0 < out.strength <= 1.0:
            raise _bad("strength", f"must be a number in (0, 1]; got {values['strength']!r}.")
    return out
