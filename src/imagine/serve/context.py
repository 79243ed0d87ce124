"""Everything one running app holds: settings, database, worker, limits, guarded generators. Built in
`create_app`'s lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from imagine.config import Settings
from imagine.guarded import GuardedGenerator
from imagine.serve.imagestore import ImageStore
from imagine.serve.metrics import Metrics
from imagine.serve.ratelimit import RateLimiter
from imagine.serve.region import RegionPolicy
from imagine.serve.worker import Worker


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ImageStore
    metrics: Metrics
    limiter: RateLimiter
    region: RegionPolicy
    templates: Jinja2Templates
    # The guarded generators by name: "default" is the served model; features register more (the arena's
    # other models). Filled at start-up, before the worker starts.
    generators: dict[str, GuardedGenerator] = field(default_factory=dict)
    worker: Worker | None = None  # None until the model has loaded
    model_id: str = ""
    instance: str = ""  # this process's name on the jobs it queues (`ServeSettings.instance`)
