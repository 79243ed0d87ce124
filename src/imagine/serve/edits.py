"""Edit inputs from HTTP: uploaded or gallery images and alpha masks, turned into an edit `GenerationRequest`.

Shared by the native edit API, the OpenAI-compatible ``images.edit`` / ``images.create_variation`` and the web
edit page, so every entry point opens uploads the same way (`imagine.images.open_image`: byte cap, format
allow-list, pixel cap read from the header before decoding) and reads masks with one convention, OpenAI's:
a PNG with an alpha channel whose fully transparent pixels mark where to edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from imagine import images
from imagine.generate.edit import has_alpha, mask_from_image
from imagine.generate.requests import DEFAULT_VARIATION_STRENGTH, GenerationRequest
from imagine.guard.metadata import PARAMETERS_KEY, SourceImage, parse_parameters
from imagine.guarded import Refused
from imagine.serve.context import ServiceContext
from imagine.serve.errors import ApiError, image_error
from imagine.serve.generation import owned_image, refused
from imagine.serve.livejob import DEFAULT_GENERATOR

MAX_EDIT_SIDE = 1024  # inputs are scaled down to this longer side first: the result is delivered smaller anyway
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass
class EditInput:
    """One input image (RGB, at most `MAX_EDIT_SIDE`), its bytes for provenance, and where it came from."""

    image: Image.Image
    source: SourceImage
    original_size: tuple[int, int]
    prompt_hint: str = ""  # the prompt recorded in its own metadata (A1111 parameters), for variations
    source_image_id: str | None = None


def _fit(image: Image.Image, resample: Image.Resampling) -> Image.Image:
    if max(image.size) <= MAX_EDIT_SIDE:
        return image
    scale = MAX_EDIT_SIDE / max(image.size)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)


def _prompt_in(header: Image.Image) -> str:
    raw = header.info.get(PARAMETERS_KEY)
    if not isinstance(raw, str):
        return ""
    try:
        return parse_parameters(raw).get("prompt", "")
    except ValueError:
        return ""


def open_input(ctx: ServiceContext, data: bytes, *, filename: str | None = None, param: str = "image") -> EditInput:
    """An uploaded input image, through the safe opener; refusals name ``param``."""
    serve = ctx.settings.serve
    if not data:
        raise ApiError("invalid_request", f"{param}: the file is empty; upload a PNG, JPEG or WebP image.", param=param)
    try:
        header = images.inspect_image(data, max_pixels=serve.max_upload_pixels, max_bytes=serve.max_upload_bytes)
        hint = _prompt_in(header)
        image = images.decode_image(header)
    except images.ImageRejected as exc:
        raise image_error(exc, param=param) from exc
    fmt = image.format or "PNG"
    title = (filename or f"input.{fmt.lower()}")[:200]
    return EditInput(_fit(image, Image.Resampling.LANCZOS), SourceImage(data, MIME.get(fmt, "image/png"), title),
                     image.size, hint)


def gallery_input(ctx: ServiceContext, db, user, image_id: str) -> EditInput:  # noqa: ANN001 - Session, User
    """One of the user's own gallery images as the input (404 for anyone else's)."""
    row = owned_image(db, user, image_id)
    data = ctx.store.read(row.path)
    edit = open_input(ctx, data, filename=f"{row.id}.png", param="image_id")
    edit.prompt_hint, edit.source_image_id = row.prompt, row.id
    return edit


def open_mask(ctx: ServiceContext, data: bytes, edit: EditInput, *, param: str = "mask") -> Image.Image:
    """An alpha mask (transparent = edit) of ``edit``'s image as the generator's mask ("L", 255 = repaint)."""
    serve = ctx.settings.serve
    try:
        mask = images.open_image(data, mode=None, max_pixels=serve.max_upload_pixels, max_bytes=serve.max_upload_bytes,
                                 formats={"PNG"})
    except images.ImageRejected as exc:
        raise image_error(exc, param=param) from exc
    if not has_alpha(mask):
        raise ApiError("invalid_image", f"{param} must be a PNG with an alpha channel (fully transparent pixels mark "
                       f"where to edit); this one has mode {mask.mode} and no transparency.", param=param)
    if mask.size != edit.original_size:
        raise ApiError("invalid_image", f"{param} is {mask.width}x{mask.height} pixels but the image is "
                       f"{edit.original_size[0]}x{edit.original_size[1]}; they must have the same size.", param=param)
    repaint = mask_from_image(mask).resize(edit.image.size, Image.Resampling.NEAREST)
    if repaint.getextrema()[1] == 0:
        raise ApiError("invalid_image", f"{param} has no fully transparent pixel, so there is nothing to edit.",
                       param=param)
    return repaint


def edit_request(ctx: ServiceContext, edit: EditInput, *, prompt: str, mask: Image.Image | None = None,
                 strength: float | None = None, generator: str = DEFAULT_GENERATOR, **fields) -> GenerationRequest:
    """The edit as a request with the configured defaults (``fields``: n, seed, steps, guidance, ...)."""
    try:
        return ctx.generators[generator].request(prompt, init_image=edit.image, mask=mask, strength=strength,
                                                 source=edit.source, **fields)
    except Refused as err:
        raise refused(err) from err


def variation_request(ctx: ServiceContext, edit: EditInput, *, generator: str = DEFAULT_GENERATOR,
                      **fields) -> GenerationRequest:
    """A variation: image-to-image with the source's own prompt (from its metadata or gallery row) or none."""
    return edit_request(ctx, edit, prompt=edit.prompt_hint, strength=DEFAULT_VARIATION_STRENGTH, generator=generator,
                        **fields)
