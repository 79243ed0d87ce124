"""Generator: seed determinism, batch invariance, samplers, cancellation, previews, request validation."""

from __future__ import annotations

import numpy as np
import pytest

from imagine.generate.core import GenerationCancelled, GenerationRequest
from imagine.generate.samplers import SAMPLERS, build_scheduler


def pixels(images):
    return [np.asarray(im, dtype=np.int16) for im in images]


@pytest.fixture(params=["sd", "imagine"])
def generator(request, sd_generator, imagine_generator):
    return {"sd": sd_generator, "imagine": imagine_generator}[request.param]


def test_same_seed_same_images_and_other_seed_differs(generator):
    req = GenerationRequest("a red circle above a blue car", n=2, seed=11, steps=3)
    first, second = generator.generate([req])[0], generator.generate([req])[0]
    assert first.seeds == second.seeds == [11, 12]
    for a, b in zip(pixels(first.images), pixels(second.images)):
        assert np.array_equal(a, b)
    other = generator.generate([GenerationRequest(req.prompt, n=2, seed=99, steps=3)])[0]
    assert not np.array_equal(pixels(first.images)[0], pixels(other.images)[0])
    # image i is seed + i: a 1-image request with seed 12 is image 1 of the seed-11 request.
    single = generator.generate([GenerationRequest(req.prompt, n=1, seed=12, steps=3)])[0]
    assert np.array_equal(pixels(single.images)[0], pixels(first.images)[1])


def test_results_do_not_depend_on_batching(generator):
    a = GenerationRequest("a green tree left of a house", n=2, seed=5, steps=3)
    b = GenerationRequest("two yellow stars on the beach", n=3, seed=40, steps=3, guidance=7.5, negative_prompt="blurry")
    alone_a, alone_b = generator.generate([a])[0], generator.generate([b])[0]
    together = generator.generate([b, a])
    assert together[0].timings["batch_images"] == 5.0  # really one batch
    assert [r.request for r in together] == [b, a]
    for alone, batched in ((alone_a, together[1]), (alone_b, together[0])):
        assert len(batched.images) == alone.request.n
        for x, y in zip(pixels(alone.images), pixels(batched.images)):
            assert np.abs(x - y).max() <= 1  # bitwise on CPU in practice; allow one level of rounding


def test_timings_split(sd_generator):
    [result] = sd_generator.generate([GenerationRequest("a heart", n=1, seed=0, steps=2)])
    t = result.timings
    assert set(t) >= {"text_encoding", "denoising", "postprocessing", "total"}
    assert all(t[k] >= 0 for k in t)
    assert t["total"] == pytest.approx(t["text_encoding"] + t["denoising"] + t["postprocessing"])
    assert result.images[0].size == sd_generator.image_size == (32, 32)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_generates(imagine_generator, name):
    [result] = imagine_generator.generate([GenerationRequest("a car", n=1, seed=3, steps=3, sampler=name)])
    assert result.images[0].mode == "RGB"
    assert np.asarray(result.images[0]).std() > 0


def test_sampler_registry_keeps_training_schedule(sd_generator):
    config = sd_generator.pipe.scheduler.config
    for name in SAMPLERS:
        scheduler = build_scheduler(name, config)
        assert isinstance(scheduler, SAMPLERS[name].scheduler_class) and SAMPLERS[name].class_name.endswith("Scheduler")
        assert scheduler.config.beta_schedule == config.beta_schedule
        assert scheduler.config.num_train_timesteps == config.num_train_timesteps
    assert build_scheduler("dpmpp", config).config.algorithm_type == "dpmsolver++"
    with pytest.raises(ValueError, match="unknown sampler 'heun'.*dpmpp"):
        build_scheduler("heun", config)


def test_samplers_differ(sd_generator):
    outs = {
        name: pixels(sd_generator.generate([GenerationRequest("a star", n=1, seed=1, steps=4, sampler=name)])[0].images)[0]
        for name in ("ddim", "dpmpp")
    }
    assert not np.array_equal(outs["ddim"], outs["dpmpp"])


def test_on_step_previews_and_cancellation(imagine_generator):
    seen = []
    req = GenerationRequest("a white square", n=2, seed=2, steps=4)
    imagine_generator.generate([req], on_step=lambda step, total, previews: seen.append((step, total, previews)))
    assert [(s, t) for s, t, _ in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(len(p) == 2 and p[0].mode == "RGB" for _, _, p in seen)

    steps_run = []
    with pytest.raises(GenerationCancelled):
        imagine_generator.generate(
            [req], on_step=lambda step, total, previews: steps_run.append(step), cancelled=lambda: len(steps_run) >= 2
        )
    assert steps_run == [1, 2]
    # the generator is still usable after a cancellation
    assert len(imagine_generator.generate([req], previews=False)[0].images) == 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prompt": ""}, "non-empty"),
        ({"prompt": "x" * 501}, "limit is 500"),
        ({"n": 0}, "n must be"),
        ({"n": 17}, "n must be"),
        ({"steps": 0}, "steps must be"),
        ({"steps": 2.5}, "steps must be"),
        ({"guidance": -1.0}, "guidance must be"),
        ({"guidance": 31}, "guidance must be"),
        ({"seed": -3}, "seed must be"),
        ({"sampler": "plms"}, "unknown sampler"),
    ],
)
def test_request_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GenerationRequest(**({"prompt": "a car"} | kwargs))


def test_load_refuses_a_folder_without_pipeline(tmp_path):
    from imagine.generate.core import Generator

    with pytest.raises(FileNotFoundError, match="model_index.json"):
        Generator.load(tmp_path)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_samplers_stay_finite_on_a_cosine_schedule(imagine_generator, name):
    """Our model's cosine schedule starts at sigma ~2e4; plain float32 Euler-ancestral turned that into NaN at 4 steps."""
    assert imagine_generator.pipe.scheduler.config.beta_schedule == "squaredcos_cap_v2"
    for steps in (4, 10):
        [result] = imagine_generator.generate([GenerationRequest("a car", n=1, seed=3, steps=steps, sampler=name)])
        assert result.images[0].size == (32, 32)  # the generator raises on non-finite samples
