"""lookup_image finds re-encoded / resized copies of training images and nothing for strangers."""

from __future__ import annotations

import io

from PIL import Image

from imagine.dataset.lookup import lookup_image, lookup_owner, lookup_post


def test_lookup_image_exact_and_near(built, corpus):
    out, report = built
    exact = lookup_image(out, corpus.root / "images/p005.jpg")
    assert exact[0].post_id == "p005" and exact[0].exact and exact[0].confidence == 1.0
    assert exact[0].versions == [report.version]
    img = Image.open(corpus.root / "images/p007.jpg").resize((70, 70))
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=60)
    near = lookup_image(out, buf.getvalue())
    assert near and near[0].post_id == "p007" and not near[0].exact and near[0].distance <= 4


def test_lookup_image_of_an_excluded_post_finds_nothing(built, corpus):
    out, _ = built
    assert lookup_image(out, corpus.root / "images/x_private.jpg") == []


def test_lookup_post_and_owner(built):
    out, report = built
    h = lookup_post(out, "x_minor")
    assert h.versions_included == [] and h.decisions[0].reason == "owner_minor" and not h.still_present
    assert lookup_post(out, "nope").decisions == []
    posts = lookup_owner(out, "o_optout")
    assert [p.post_id for p in posts] == ["x_optout"]
