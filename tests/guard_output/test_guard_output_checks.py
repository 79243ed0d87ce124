"""Output checks on real images: NudeNet's bundled model really runs; the memorization guard
catches a training image (and a noisy low-resolution copy of one) but not a fresh scene.

No image with exposed-body content is available offline, so the blocking logic is exercised with
the real detections NudeNet makes on a real photograph (a face) by configuring that label.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from imagine.guard.memorization import MemorizationIndex
from imagine.guard.nudity import Detection, NudityDetector, blocking
from imagine.guard.output import OutputGuard


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A real photograph of a person (Grace Hopper), shipped in matplotlib's sample data."""
    import matplotlib.cbook as cbook

    return Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")


@pytest.fixture(scope="module")
def detector() -> NudityDetector:
    return NudityDetector(["FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED"], 0.5)


def test_nudenet_runs_offline_on_a_real_photo(detector, photo):
    found = detector.detect(photo)
    assert found and all(isinstance(d, Detection) for d in found)
    faces = [d for d in found if d.label == "FACE_FEMALE"]
    assert faces and 0.3 < faces[0].score <= 1.0
    x, y, w, h = faces[0].box
    assert 0 <= x < photo.width and 0 <= y < photo.height and w > 20 and h > 20
    assert detector.check(photo) == []  # a face is not a blocked label


def test_no_detection_on_rendered_scenes(detector, helpers):
    for seed in range(6):
        assert detector.check(helpers.render(seed, 256)) == []


def test_label_and_threshold_logic_on_real_detections(detector, photo):
    found = detector.detect(photo)
    face = max((d for d in found if d.label == "FACE_FEMALE"), key=lambda d: d.score)
    assert blocking(found, ["FACE_FEMALE"], face.score) == [face]
    assert blocking(found, ["FACE_FEMALE"], face.score + 1e-6) == []
    assert blocking(found, ["FACE_MALE", "FEET_EXPOSED"], 0.0) == [d for d in found if d.label in {"FACE_MALE", "FEET_EXPOSED"}]
    strict = NudityDetector(["FACE_FEMALE"], 0.3)
    assert [d.label for d in strict.check(photo)] == ["FACE_FEMALE"]


def test_unknown_label_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown NudeNet labels"):
        NudityDetector(["FEMALE_BREAST_EXPOSD"], 0.5)


def test_output_guard_blocks_configured_label(data_home, monkeypatch, photo):
    from imagine.config import get_settings

    monkeypatch.setenv("IMAGINE_GUARD__NUDITY_LABELS", '["FACE_FEMALE"]')
    monkeypatch.setenv("IMAGINE_GUARD__NUDITY_THRESHOLD", "0.3")
    get_settings.cache_clear()
    verdict = OutputGuard.load().check(photo)
    assert not verdict.allowed and verdict.flags == ("nudity:FACE_FEMALE",) and verdict.matched_post_id is None


def _noisy_copy(img: Image.Image, seed: int) -> Image.Image:
    """What a memorising 32 px model would emit: the training image, downscaled, with sampling noise."""
    small = np.asarray(img.resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0, 8, small.shape)
    return Image.fromarray(np.clip(small + noise, 0, 255).astype(np.uint8))


def test_memorization_catches_training_images(training_set, helpers):
    dataset_dir, images = training_set
    index = MemorizationIndex.load(dataset_dir)
    assert len(index) == 40
    for i, (post_id, img) in enumerate(list(images.items())[:10]):
        exact = index.check(img)
        assert exact is not None and exact.post_id == post_id and exact.rmse < 1
        copy = index.check(_noisy_copy(img, i))
        assert copy is not None and copy.post_id == post_id, (post_id, copy)
        upscaled = index.check(_noisy_copy(img, i).resize((256, 256), Image.Resampling.LANCZOS))
        assert upscaled is not None and upscaled.post_id == post_id


def test_memorization_passes_fresh_scenes(training_set, helpers):
    dataset_dir, _ = training_set
    index = MemorizationIndex.load(dataset_dir)
    for seed in range(30):
        assert index.check(helpers.render(5000 + seed, 32)) is None


def test_output_guard_withholds_or_flags_memorized(data_home, monkeypatch, training_set, helpers):
    from imagine.config import get_settings

    dataset_dir, images = training_set
    post_id, img = next(iter(images.items()))
    guard = OutputGuard.load(dataset_dir)
    verdict = guard.check(_noisy_copy(img, 0))
    assert not verdict.allowed and verdict.flags == ("memorized",) and verdict.matched_post_id == post_id
    fresh = guard.check(helpers.render(4242, 32))
    assert fresh.allowed and fresh.flags == () and fresh.matched_post_id is None

    monkeypatch.setenv("IMAGINE_GUARD__MEMORIZATION_ACTION", "flag")
    get_settings.cache_clear()
    flagged = OutputGuard.load(dataset_dir).check(_noisy_copy(img, 0))
    assert flagged.allowed and flagged.flags == ("memorized",) and flagged.matched_post_id == post_id


@pytest.mark.slow
def test_fresh_generation_passes_the_guard_and_round_trips(data_home, training_set):
    """A real (tiny, random-weight) pipeline's output: not memorized, no nudity, stamped and verified."""
    from imagine.config import get_settings
    from imagine.generate.core import Generator
    from imagine.generate.requests import GenerationRequest
    from imagine.guard.metadata import GenerationInfo
    from imagine.guard.provenance import stamp
    from imagine.guard.verify import verify
    from imagine.model.factory import tiny_pipeline

    dataset_dir, _ = training_set
    generator = Generator(tiny_pipeline(resolution=32, seed=0), "tiny-test")
    result = generator.generate([GenerationRequest("a red car left of a tree", n=2, seed=3, steps=4)])[0]
    guard = OutputGuard.load(dataset_dir)
    settings = get_settings()
    for image, seed in zip(result.images, result.seeds):
        verdict = guard.check(image)
        assert verdict.allowed and verdict.flags == () and verdict.matched_post_id is None
        png = stamp(image, GenerationInfo("a red car left of a tree", result.model_id, seed, steps=4), settings=settings)
        report = verify(png)
        assert report.watermark.found and report.c2pa.state == "valid" and report.generated_here
        assert report.parameters["Model"] == "tiny-test"
