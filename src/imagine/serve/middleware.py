"""Pure-ASGI middleware: trusted proxies, a request-body limit and security headers.

Pure ASGI (not `BaseHTTPMiddleware`) so streaming responses (SSE) and disconnect detection keep working.
The body limit refuses by Content-Length up front, and while streaming for chunked bodies.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware


VIA_TRUSTED_PROXY = "via_trusted_proxy"  # request.state flag: the TCP peer is a configured proxy


class TrustedProxies:
    """Believe ``X-Forwarded-For`` / ``X-Forwarded-Proto`` only from the configured proxies (none by default).

    uvicorn's ``ProxyHeadersMiddleware`` does the parsing (IPs and CIDR networks; the right-most untrusted
    address of the chain is the client). It runs inside the app rather than as a uvicorn option, so it
    holds under any ASGI server and in tests. ``request.state.via_trusted_proxy`` tells the region policy
    whether the region header came from a proxy it may believe.
    """

    def __init__(self, app: ASGIApp, trusted: list[str]) -> None:
        self.app = app
        self.trusted = list(trusted)
        self.proxy_headers = ProxyHeadersMiddleware(app, trusted_hosts=self.trusted) if self.trusted else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        via = self.proxy_headers is not None and peer is not None and peer in self.proxy_headers.trusted_hosts
        scope.setdefault("state", {})[VIA_TRUSTED_PROXY] = via
        await (self.proxy_headers if via else self.app)(scope, receive, send)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"The request body is larger than {limit} bytes.")


class BodySizeLimit:
    """Caps request bodies; the few image-upload paths get their own, larger cap."""

    def __init__(self, app: ASGIApp, max_bytes: int, *, upload_paths: tuple[str, ...] = (),
                 max_upload_bytes: int | None = None) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.upload_paths, self.max_upload_bytes = frozenset(upload_paths), max_upload_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.max_upload_bytes if scope.get("path") in self.upload_paths else self.max_bytes
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            await _send_413(send, cap)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        await self.app(scope, limited, send)


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps({"error": {"code": "body_too_large", "message": f"The request body is larger than {limit} bytes.",
                                 "type": "invalid_request_error", "param": None}}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
CSP = (b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       b"frame-ancestors 'none'")


class SecurityHeaders:
    """Adds nosniff, referrer, framing and (outside the interactive /docs page) a strict CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_csp = not scope.get("path", "").startswith("/docs")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if with_csp and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
