"""The frozen MiniLM encoder and the resumable data order of the Lance stream."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def encoder():
    from imagine.model.text_encoder import MiniLMTextEncoder

    return MiniLMTextEncoder(max_length=16)


def test_token_states_shape_mask_and_frozen(encoder):
    states, mask = encoder.encode(["a red circle", "two blue squares above a tree"])
    assert states.shape == (2, 16, 384) and mask.shape == (2, 16)
    assert int(mask[0].sum()) == 5  # [CLS] a red circle [SEP]
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.bert.training  # dropout never switches on


def test_padding_to_longest_gives_the_same_states_on_real_tokens(encoder):
    full, mask = encoder.encode(["a red circle", "a green tree below a house"])
    short, short_mask = encoder.encode(["a red circle", "a green tree below a house"], padding="longest")
    n = short.shape[1]
    assert n < 16
    torch.testing.assert_close(full[:, :n][short_mask.bool()], short[short_mask.bool()], atol=1e-4, rtol=1e-4)


def test_empty_prompt_is_cached(encoder):
    a = encoder.empty_states()
    b = encoder.empty_states()
    assert a[0] is b[0]
    states, _ = encoder.encode(["", ""])
    torch.testing.assert_close(states[1], a[0][0])


def test_order_is_seeded_and_ranks_split_one_global_batch(scene_dataset):
    from imagine.model.data import LanceImageStream

    s = LanceImageStream(scene_dataset, None, resolution=32, seed=3)
    assert len(s) == 24
    np.testing.assert_array_equal(s.order(0), LanceImageStream(scene_dataset, None, resolution=32, seed=3).order(0))
    assert not np.array_equal(s.order(0), s.order(1))
    # 24 rows, global batch 8 (2 ranks x 4): 3 micro-batches per epoch, tails dropped.
    assert s.position(4, 8).epoch == 1 and s.position(4, 8).offset == 8
    r0, r1 = s.indices(1, 8, 0, 4), s.indices(1, 8, 1, 4)
    np.testing.assert_array_equal(np.concatenate([r0, r1]), s.order(0)[8:16])
    images, rows = s.fetch(r0)
    assert images.shape == (4, 3, 32, 32) and images.dtype == torch.uint8 and rows == [int(i) for i in r0]
    with pytest.raises(ValueError, match="fewer than one global batch"):
        s.position(0, 64)


def test_dataset_path_must_be_a_lance_table(tmp_path):
    from imagine.model.data import resolve_images_uri

    with pytest.raises(FileNotFoundError, match="images.lance"):
        resolve_images_uri(tmp_path)
