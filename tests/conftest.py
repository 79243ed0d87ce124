"""Fixtures shared by every stage's tests. Stage-specific fixtures live in tests/<stage>/conftest.py."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

POSTGRES_URL = os.environ.get("IMAGINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IMAGINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The real PostgreSQL server; its absence fails the test loudly (never a silent skip)."""
    if not _reachable("127.0.0.1", 5432):
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 — start it: "
                    "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The real Redis server; its absence fails the test loudly (never a silent skip)."""
    if not _reachable("127.0.0.1", 6379):
        pytest.fail("Redis is not reachable on 127.0.0.1:6379 — start it: "
                    "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no")
    return REDIS_URL


@pytest.fixture()
def data_home(tmp_path, monkeypatch):
    """A fresh data home for one test, wired through IMAGINE_DATA_HOME."""
    from imagine.config import get_settings

    home = tmp_path / "var"
    home.mkdir()
    monkeypatch.setenv("IMAGINE_DATA_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The tiny random ImaginePipeline, saved as a diffusers folder (what `--model` takes)."""
    import torch

    from imagine.model.factory import tiny_pipeline

    # One intra-op thread: on a shared, oversubscribed CPU two spinning threads are ~10x slower than one.
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("tiny-model")
    tiny_pipeline(resolution=32, seed=0).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def components(tiny_model_dir, tmp_path_factory) -> dict[str, Any]:
    """The service's heavy parts, loaded once per test process: generator, prompt policy, output guard."""
    from imagine.config import Settings
    from imagine.generate.core import Generator
    from imagine.guard.output import OutputGuard
    from imagine.guard.policy import PromptPolicy

    settings = Settings(data_home=tmp_path_factory.mktemp("guard-home"))
    return {"generator": Generator.load(tiny_model_dir),
            "policy": PromptPolicy.load(settings=settings, semantic=False),
            "output_guard": OutputGuard.load(settings=settings)}
