"""One error shape for every failure, with stable codes: ``{"error": {"code", "message", "type", "param", ...}}``.

The shape is OpenAI's, so the official `openai` client raises its typed exceptions (e.g. `BadRequestError` with
``code == "content_policy_violation"``) against us. Codes never change meaning; new ones may be added.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from imagine import images

log = logging.getLogger(__name__)

# code -> (HTTP status, type). The documented registry (docs/api.md mirrors it; a test checks that).
ERROR_CODES: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "invalid_request_error"),
    "malformed_json": (400, "invalid_request_error"),
    "prompt_too_long": (400, "invalid_request_error"),
    "control_characters": (400, "invalid_request_error"),
    "invalid_size": (400, "invalid_request_error"),
    "invalid_image": (400, "invalid_request_error"),
    "weak_password": (400, "invalid_request_error"),
    "content_policy_violation": (400, "invalid_request_error"),
    "authentication_required": (401, "authentication_error"),
    "invalid_api_key": (401, "authentication_error"),
    "invalid_credentials": (401, "authentication_error"),
    "csrf_failed": (403, "permission_error"),
    "not_found": (404, "not_found_error"),
    "method_not_allowed": (405, "invalid_request_error"),
    "email_taken": (409, "invalid_request_error"),
    "job_not_finished": (409, "invalid_request_error"),
    "body_too_large": (413, "invalid_request_error"),
    "unsupported_media_type": (415, "invalid_request_error"),
    "rate_limited": (429, "rate_limit_error"),
    "queue_share_exceeded": (429, "rate_limit_error"),
    "region_unavailable": (451, "region_error"),
    "internal_error": (500, "server_error"),
    "server_busy": (503, "server_busy_error"),
    "generation_failed": (500, "server_error"),
}


class ErrorBody(BaseModel):
    code: str
    message: str
    type: str
    param: str | None = None
    retry_after: int | None = None
    category: str | None = None
    reason: str | None = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class ApiError(Exception):
    """Raise anywhere in a request to answer with the documented error shape."""

    def __init__(self, code: str, message: str, *, param: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}; add it to ERROR_CODES")
        super().__init__(message)
        self.code, self.message, self.param = code, message, param
        self.status = ERROR_CODES[code][0]
        self.headers = dict(headers or {})
        self.extra = extra
        if "retry_after" in extra and extra["retry_after"] is not None:
            self.headers.setdefault("Retry-After", str(int(extra["retry_after"])))
        if self.status == 429 and "Retry-After" not in self.headers:
            raise ValueError("a 429 must say when to retry: pass retry_after")

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "type": ERROR_CODES[self.code][1],
                               "param": self.param}
        err.update(self.extra)
        return {"error": err}


# An uploaded file refused by ``imagine.images`` -> our error code; the body's ``reason`` keeps the image reason.
_IMAGE_ERRORS = {images.TOO_LARGE: "body_too_large", images.NOT_AN_IMAGE: "unsupported_media_type",
                 images.DECOMPRESSION_BOMB: "invalid_image", images.TRUNCATED: "invalid_image"}


def image_error(exc: images.ImageRejected, *, param: str | None = "image") -> ApiError:
    """The API error for an uploaded image that ``imagine.images`` refused (every upload route uses this)."""
    return ApiError(_IMAGE_ERRORS[exc.reason], str(exc), param=param, reason=exc.reason)


API_PREFIXES = ("/api/", "/v1/", "/metrics", "/healthz", "/openapi.json", "/docs")


def wants_html(request: Request) -> bool:
    """Browser page requests get an HTML error page; the API (and anything asking for JSON) gets JSON."""
    path = request.url.path
    return not path.startswith(API_PREFIXES) and "text/html" in request.headers.get("accept", "")


def error_response(err: ApiError, request: Request | None = None) -> Response:
    renderer = getattr(request.app.state, "render_error", None) if request is not None else None
    if renderer is not None and wants_html(request):
        return renderer(request, err)
    return JSONResponse(err.body(), status_code=err.status, headers=err.headers)


# Pydantic error types raised by our own validators that deserve their own stable code.
_CUSTOM_VALIDATION_CODES = {"prompt_too_long", "control_characters", "invalid_size"}


def _from_validation(exc: RequestValidationError) -> ApiError:
    return validation_error(exc.errors())


def validation_error(errors: Sequence[Any]) -> ApiError:
    """The API error for pydantic validation errors (a request body, or a request a route builds itself)."""
    first = errors[0] if errors else {"type": "invalid_request", "loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header", "cookie")]
    param = ".".join(loc) or None
    etype = first.get("type", "")
    if etype in ("json_invalid", "model_attributes_type") or (etype == "dict_type" and not loc):
        return ApiError("malformed_json", "The request body is not a valid JSON object.")
    if etype == "string_too_long" and param == "prompt":
        return ApiError("prompt_too_long", first.get("msg", "prompt too long"), param=param)
    code = etype if etype in _CUSTOM_VALIDATION_CODES else "invalid_request"
    msg = first.get("msg", "invalid value")
    return ApiError(code, f"{param}: {msg}" if param else msg, param=param)


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure (ours, validation, routing, unexpected) to the one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(_from_validation(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        by_status = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type",
                     401: "authentication_required", 403: "csrf_failed", 429: "rate_limited"}
        code = by_status.get(exc.status_code, "invalid_request" if exc.status_code < 500 else "internal_error")
        headers = dict(getattr(exc, "headers", None) or {})
        retry = {"retry_after": int(headers.get("Retry-After", 1))} if exc.status_code == 429 else {}
        err = ApiError(code, str(exc.detail), headers=headers, **retry)
        err.status = exc.status_code
        return error_response(err, request)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error: %s", exc)
        return error_response(ApiError("internal_error", "An unexpected error occurred; it has been logged."))
