"""The erasure scanner finds a needle at any byte offset, in any file, and nothing that is not there."""

from __future__ import annotations

import os

import pytest

from imagine.dataset.proof import Needle, scan


@pytest.mark.parametrize("offset", range(0, 17))
def test_needle_found_at_any_offset(tmp_path, offset):
    needle = os.urandom(15 + offset % 5)
    (tmp_path / "sub").mkdir()
    data = os.urandom(1000)
    (tmp_path / "sub" / "f.bin").write_bytes(data[:offset] + needle + data[offset:])
    (tmp_path / "clean.bin").write_bytes(os.urandom(4096))
    hits = scan(tmp_path, [Needle("p", "png", needle), Needle("q", "png", os.urandom(40))]).hits
    assert [(h.post_id, h.path, h.offset) for h in hits] == [("p", "sub/f.bin", offset)]


def test_needle_at_end_of_file(tmp_path):
    needle = os.urandom(23)
    (tmp_path / "f").write_bytes(os.urandom(13) + needle)
    assert len(scan(tmp_path, [Needle("p", "x", needle)]).hits) == 1


@pytest.mark.parametrize("float_offset", [0, 1, 7, 63, 64, 130])
def test_bit_vector_found_at_any_float_offset(tmp_path, float_offset):
    import numpy as np

    rng = np.random.default_rng(float_offset)
    target = rng.integers(0, 2, 64).astype("<f4")
    others = rng.integers(0, 2, (50, 64)).astype("<f4").reshape(-1)  # a column of other bit vectors
    data = np.concatenate([others[:float_offset], target, others[float_offset:]]).tobytes()
    (tmp_path / "col.bin").write_bytes(b"\x00" * 16 + data)
    hits = scan(tmp_path, [Needle("p", "phash_bits", target.tobytes())]).hits
    assert [(h.kind, h.offset) for h in hits] == [("phash_bits", 16 + 4 * float_offset)]


def test_common_png_header_is_not_a_hit(tmp_path):
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(4)
    needle = header + os.urandom(200)
    (tmp_path / "f").write_bytes(header + os.urandom(500))
    assert scan(tmp_path, [Needle("p", "png", needle)]).hits == []
