"""The edit page in headless Chromium: upload, paint a mask, strength, live previews, results, gallery links."""

from __future__ import annotations

import uuid

import pytest
from PIL import Image, ImageDraw

from web_helpers import launch_chromium

from .conftest import live_server
from .test_serve_browser import shot


@pytest.mark.slow
@pytest.mark.browser
def test_edit_page_upload_mask_result_and_gallery_link(app_factory, tmp_path):
    from playwright.sync_api import sync_playwright

    photo = Image.new("RGB", (256, 256), (40, 110, 190))
    ImageDraw.Draw(photo).ellipse((30, 30, 120, 120), fill=(220, 30, 30))
    photo.save(tmp_path / "photo.png")
    app = app_factory()
    with live_server(app) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1200, "height": 1000}, bypass_csp=True)
        page.set_default_timeout(90_000)
        try:
            page.goto(f"{url}/signup")
            page.fill("#email", f"edit-{uuid.uuid4().hex[:8]}@example.org")
            page.fill("#password", "correct horse battery")
            page.click("button[type=submit]")
            page.wait_for_selector("#logout")

            # 1. upload, paint over the right half of the mask canvas, set strength, edit
            page.goto(f"{url}/edit")
            page.set_input_files("#upload", str(tmp_path / "photo.png"))
            box = page.locator("#mask").bounding_box()
            page.mouse.move(box["x"] + 160, box["y"] + 20)
            page.mouse.down()
            for y in range(20, 240, 10):
                page.mouse.move(box["x"] + 200, box["y"] + y)
            page.mouse.up()
            page.fill("#prompt", "a green tree")
            page.locator("#strength").fill("0.9")
            assert page.inner_text("#strength-value") == "0.9"
            page.fill("#n", "2")
            page.fill("#seed", "4")
            shot(page, "edit-01-masked")
            page.click("#edit")
            page.wait_for_function("document.querySelectorAll('#grid .cell.done').length === 2")
            shot(page, "edit-02-results")
            assert page.get_attribute("#grid .cell.done a.gallery-link", "href") == "/gallery"

            # 2. the results are in the gallery, marked as edits of an upload; edit one of them from there
            page.click("#grid .cell.done a.gallery-link")
            page.wait_for_selector(".tile .source")
            assert "edited from an upload" in page.inner_text(".tile .source")
            first_id = page.get_attribute(".tile", "data-image-id")
            page.click(f'.tile[data-image-id="{first_id}"] a[href^="/edit?image="]')
            page.wait_for_selector(f'.pick-image.picked[data-image-id="{first_id}"]')
            page.check("#variation")
            page.fill("#n", "1")
            page.click("#edit")
            page.wait_for_function("document.querySelectorAll('#grid .cell.done').length === 1")

            # 3. the variation links back to the image it came from
            page.goto(f"{url}/gallery")
            link = page.locator(f'a.source-link[href="/api/v1/images/{first_id}/file"]')
            assert link.count() == 1
            shot(page, "edit-03-gallery")
        finally:
            browser.close()
    with app.state.ctx.sessions() as db:
        from sqlalchemy import select

        from imagine.db.models import Image as Row

        rows = list(db.scalars(select(Row)))
    masked = [r for r in rows if r.params.get("masked")]
    assert len(masked) == 2 and all(r.params["strength"] == 0.9 for r in masked)
    assert [r.source_image_id for r in rows if r.source_image_id] == [first_id]
