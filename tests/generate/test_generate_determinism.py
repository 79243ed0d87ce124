"""What docs/determinism.md promises: bit-identical for identical conditions; within a stated bound across
batch composition and torch thread count (float sums are ordered differently there, the sampler carries it)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from imagine.generate.core import GenerationRequest, Generator

# The documented bound (docs/determinism.md): per channel, and the share of pixels that differ at all.
MAX_LEVELS = 8
MAX_SHARE = 0.05

PROMPTS = ["a yellow star and an orange house on a desert background", "two purple stars on a night background",
           "a blue circle on a beach background", "a red tree and a yellow heart on a desert background"]


@pytest.fixture(scope="module")
def default_generator() -> Generator:
    return Generator.load(None, device="cpu")


def _requests() -> list[GenerationRequest]:
    return [GenerationRequest(p, n=2, seed=300 + 10 * k, steps=8) for k, p in enumerate(PROMPTS)]


def _pixels(results) -> np.ndarray:
    return np.stack([np.asarray(im, dtype=np.int16) for r in results for im in r.images])


def _run(gen: Generator, threads: int, batched: bool) -> np.ndarray:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        requests = _requests()
        return _pixels(gen.generate(requests) if batched else [gen.generate([r])[0] for r in requests])
    finally:
        torch.set_num_threads(before)


def _within_bound(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    diff = np.abs(a - b)
    return int(diff.max()), float((diff.max(axis=-1) > 0).mean())


def test_identical_conditions_give_identical_pixels(default_generator):
    assert np.array_equal(_run(default_generator, 1, batched=True), _run(default_generator, 1, batched=True))
    assert np.array_equal(_run(default_generator, 1, batched=False), _run(default_generator, 1, batched=False))


def test_batch_composition_stays_within_the_documented_bound(default_generator):
    levels, share = _within_bound(_run(default_generator, 1, batched=False), _run(default_generator, 1, batched=True))
    assert levels <= MAX_LEVELS and share <= MAX_SHARE, (levels, share)


@pytest.mark.slow  # two threads on a shared CPU can stall for minutes
def test_thread_count_stays_within_the_documented_bound(default_generator):
    alone_1 = _run(default_generator, 1, batched=False)
    levels, share = _within_bound(alone_1, _run(default_generator, 2, batched=True))
    assert levels <= MAX_LEVELS and share <= MAX_SHARE, (levels, share)


_CHILD = """
import json, sys
import numpy as np, torch
from imagine.generate.core import GenerationRequest, Generator
torch.set_num_threads(1)
requests = [GenerationRequest(**r) for r in json.loads(sys.argv[2])]
results = Generator.load(None, device="cpu").generate(requests)
np.save(sys.argv[1], np.stack([np.asarray(im, dtype=np.int16) for r in results for im in r.images]))
"""


def test_identical_across_processes(default_generator, tmp_path):
    out = tmp_path / "pixels.npy"
    spec = json.dumps([{"prompt": r.prompt, "n": r.n, "seed": r.seed, "steps": r.steps} for r in _requests()])
    subprocess.run([sys.executable, "-c", _CHILD, str(out), spec], check=True, timeout=600)
    assert np.array_equal(np.load(out), _run(default_generator, 1, batched=True))
