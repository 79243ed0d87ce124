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
