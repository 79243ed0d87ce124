"""Fixtures of the model stage: a tiny random pipeline (fast) shared per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_pipe():
    from imagine.model.factory import tiny_pipeline

    pipe = tiny_pipeline(resolution=32, seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe
