"""One `APIRouter` per resource; `imagine.serve.app.ROUTERS` lists the modules mounted (others add theirs there)."""
