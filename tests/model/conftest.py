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


@pytest.fixture(scope="session")
def scene_dataset(tmp_path_factory):
    """A real Lance table of 24 rendered scenes (64 px PNGs, the dataset stage's columns)."""
    from imagine.model.synthetic import write_scene_dataset

    folder = tmp_path_factory.mktemp("scenes")
    write_scene_dataset(folder, rows=24, seed=0)
    return folder


@pytest.fixture()
def tiny_config():
    """``tiny_config(path, **train_overrides)`` writes the tiny config with overrides and returns the path."""
    return _write_tiny_config


def _write_tiny_config(path, **train):
    """The shipped tiny config with ``[train]`` overrides, as a TOML file."""
    import tomllib

    from imagine.model.train_config import resolve_config_path

    raw = tomllib.loads(resolve_config_path("tiny").read_text())
    raw["train"].update(train)
    lines = []
    for table in ("model", "data", "train"):
        lines.append(f"[{table}]")
        for key, value in raw[table].items():
            lines.append(f"{key} = {_toml(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)
