"""The web app in headless Chromium (Playwright): sign-up, live progress, refusal, rate limit, gallery, log-out.

Screenshots go to test-artifacts/serve/ (uploaded by CI as artifacts).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from web_helpers import launch_chromium

from .conftest import live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "serve"


@pytest.fixture()
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        # bypass_csp lets Playwright evaluate its wait predicates; the app itself runs under its strict CSP
        page = browser.new_page(viewport={"width": 1200, "height": 900}, bypass_csp=True)
        page.set_default_timeout(90_000)
        try:
            yield page
        finally:
            browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.slow
@pytest.mark.browser
def test_web_app_end_to_end(app_factory, browser_page):
    page = browser_page
    app = app_factory(rate_user="3/minute", max_steps=150)
    with live_server(app) as url:
        # 1. sign-up: one short step, then logged in on the create page
        page.goto(f"{url}/signup")
        page.fill("#email", f"web-{uuid.uuid4().hex[:8]}@example.org")
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_selector("#logout")
        assert page.url.rstrip("/") == url
        shot(page, "01-signed-up")

        # 2. generate with visible progress: the step counter moves and previews appear, then 4 results
        page.fill("#prompt", "a red circle above a blue car")
        page.click("summary")
        page.fill("#steps", "60")
        page.fill("#seed", "7")
        page.click("#generate")
        page.wait_for_function("document.getElementById('step-text').textContent.startsWith('Step')")
        assert page.is_visible("#status")
        page.wait_for_function("document.querySelectorAll('#grid img[src^=\"data:image/png\"]').length > 0")
        shot(page, "02-progress")
        page.wait_for_function("document.querySelectorAll('#grid .cell.done').length === 4")
        assert page.is_hidden("#status")
        assert page.get_attribute("#grid .cell.done a", "href").endswith("?download=true")
        shot(page, "03-results")

        # 3. a refused prompt: category and reason, clearly
        page.fill("#prompt", "a photo of Taylor Swift")
        page.click("#generate")
        page.wait_for_selector("#message.notice-content_policy_violation:not([hidden])")
        text = page.inner_text("#message")
        assert "Prompt refused" in text and "likeness" in text
        shot(page, "04-refused")

        # 4. the third request this minute is fine, the fourth is rate-limited with a time to retry
        page.fill("#prompt", "a green tree")
        page.fill("#steps", "2")
        page.click("#generate")
        page.wait_for_function("document.querySelectorAll('#grid .cell.done').length === 4")
        page.click("#generate")
        page.wait_for_selector("#message.notice-rate_limited:not([hidden])")
        text = page.inner_text("#message")
        assert "Try again in" in text and "seconds" in text
        shot(page, "05-rate-limited")

        # 5. gallery delete
        page.goto(f"{url}/gallery")
        before = page.locator(".tile").count()
        assert before == 8
        page.locator(".tile").first.locator("button.danger").click()
        page.wait_for_selector("text=Image deleted.")
        assert page.locator(".tile").count() == before - 1
        shot(page, "06-gallery-after-delete")

        # 6. log-out: back to the public page, the gallery needs a log-in again
        page.click("#logout")
        page.wait_for_selector("a[href='/signup']")
        page.goto(f"{url}/gallery")
        assert "/login" in page.url
        shot(page, "07-logged-out")
