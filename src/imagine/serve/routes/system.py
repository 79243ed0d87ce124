"""Operations: Prometheus metrics and a health check."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from imagine.serve.deps import CtxDep

router = APIRouter(tags=["system"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(ctx: CtxDep) -> Response:
    if ctx.worker is not None:
        ctx.metrics.queue_depth.set(len(ctx.worker.queue))
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", summary="Liveness and readiness")
def health(ctx: CtxDep) -> dict[str, object]:
    return {"status": "ok" if ctx.worker is not None else "loading", "model": ctx.model_id,
            "queue": len(ctx.worker.queue) if ctx.worker else 0}
