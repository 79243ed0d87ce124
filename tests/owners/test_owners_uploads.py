"""Hostile uploads to "was this photo used?": refused from the header, in the standard error shape, never decoded.

The files are real: a 17 KB PNG whose header claims 12000x12000 1-bit pixels (432 MB once decoded to RGB), a
PNG claiming 30000x30000 and a JPEG claiming 65000x65000 (both past Pillow's own DecompressionBombError), sent
to a real uvicorn server over loopback that serves a real dataset (so a file that got through would be decoded
and looked up).
"""

from __future__ import annotations

import threading
import time

import httpx
import psutil
import pytest
from image_helpers import jpeg_claiming, png_1bit, png_claiming
from web_helpers import csrf_of, live_server, sign_up


def _rss_rise_during(fn):  # noqa: ANN001, ANN202
    """Run ``fn`` while sampling this process's RSS (the server runs in it) every 2 ms: (result, peak rise)."""
    proc = psutil.Process()
    base = peak = proc.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fn()
    finally:
        done.set()
        sampler.join()
    return result, peak - base


@pytest.fixture()
def server(make_app):
    with live_server(make_app()) as url, httpx.Client(base_url=url, timeout=60) as client:
        sign_up(client)
        yield client


def _api_used(client: httpx.Client, data: bytes, name: str = "x.png", mime: str = "image/png") -> httpx.Response:
    return client.post("/api/used", files={"image": (name, data, mime)}, headers={"X-CSRF-Token": csrf_of(client)})


def test_a_17_kb_png_claiming_12000_squared_is_refused_without_decoding(server):
    bomb = png_1bit(12000)
    assert len(bomb) < 20_000
    r, rise = _rss_rise_during(lambda: _api_used(server, bomb))
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_image" and err["reason"] == "decompression_bomb" and err["param"] == "image"
    assert "12000x12000" in err["message"]
    # Decoding it would take 432 MB as RGB (the old code's RSS rose by more than 2 GB); refusing it costs nothing.
    assert rise < 100 * 2**20, f"server RSS rose by {rise / 2**20:.0f} MB"


@pytest.mark.parametrize("data, name, mime", [
    (png_claiming(30000, 30000), "bomb.png", "image/png"),
    (jpeg_claiming(65000, 65000), "bomb.jpg", "image/jpeg"),
])
def test_headers_past_pillows_own_limit_are_a_4xx_not_a_500(server, data, name, mime):
    r = _api_used(server, data, name, mime)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_image" and r.json()["error"]["reason"] == "decompression_bomb"


def test_formats_outside_the_allow_list_and_broken_files(server):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "TIFF")
    r = _api_used(server, buf.getvalue(), "x.tif", "image/tiff")
    assert r.status_code == 415 and r.json()["error"]["reason"] == "not_an_image"
    png = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(png, "PNG")
    r = _api_used(server, png.getvalue()[:2000])
    assert r.status_code == 400 and r.json()["error"]["reason"] == "truncated", r.text


def test_the_web_form_answers_a_bomb_with_a_page(server):
    r = server.post("/used", data={"csrf_token": csrf_of(server)}, files={"image": ("bomb.png", png_claiming(30000, 30000), "image/png")},
                    headers={"Accept": "text/html"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "too many pixels" in r.text and "are accepted" in r.text
