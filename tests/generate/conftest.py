"""Tiny random pipelines saved to disk once per session: one SD-shaped (CLIP + VAE), one ImaginePipeline."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory):
    from imagine.model.tiny_sd import save_tiny_sd

    return save_tiny_sd(tmp_path_factory.mktemp("tiny-sd") / "model")


@pytest.fixture(scope="session")
def tiny_imagine_dir(tmp_path_factory):
    from imagine.model.factory import tiny_pipeline

    out = tmp_path_factory.mktemp("tiny-imagine") / "model"
    tiny_pipeline(resolution=32, seed=0).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def sd_generator(tiny_sd_dir):
    from imagine.generate.core import Generator

    return Generator.load(tiny_sd_dir, device="cpu")


@pytest.fixture(scope="session")
def imagine_generator(tiny_imagine_dir):
    from imagine.generate.core import Generator

    return Generator.load(tiny_imagine_dir, device="cpu")
