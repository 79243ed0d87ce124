"""Browser tests: headless Chromium (Playwright) against the real app under uvicorn on loopback.

An owner claims their photos, opts one out, and watches the request go pending -> applied (after
``apply-events``) -> purged (after ``purge``); anyone uploads a training image to "Was this photo
used?" and finds it; votes in the arena change the ranking; an admin sees "retrain due".
"""

from __future__ import annotations

import uuid

import pytest

from web_helpers import launch_chromium

from .conftest import MODEL_ID, live_server, make_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]



@pytest.fixture()
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


def _sign_up(page, base: str) -> str:
    email = f"b-{uuid.uuid4().hex[:8]}@example.org"
    page.set_default_timeout(120_000)  # a shared 2-core CI machine can be slow to generate
    page.goto(f"{base}/signup")
    page.fill("#email", email)
    page.fill("#password", "correct horse battery")
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    return email


def test_owner_claims_opts_out_and_sees_applied_then_purged(world, make_app, browser):
    owner_id, posts = sorted(world.included_posts().items())[0]
    post = posts[0]
    app = make_app()
    with live_server(app) as base:
        page = browser.new_page()
        _sign_up(page, base)
        page.goto(f"{base}/owners")
        page.fill("#claim-code", world.codes()[owner_id])
        page.click("#claim-form button")
        assert "linked to your photos" in page.inner_text("#done")
        row = page.locator(f"#photos tr[data-post-id='{post}']")
        assert row.locator(".photo-status").get_attribute("data-included") == "yes"
        assert MODEL_ID in row.inner_text()

        row.locator("a").click()
        assert page.get_attribute("#photo-status", "data-included") == "yes"
        assert MODEL_ID in page.inner_text("#photo-models")
        page.click("#opt-out-photo")
        status = page.locator(f"#requests tr[data-post-id='{post}'] .request-status")
        assert status.get_attribute("data-status") == "pending"

        world.cli("dataset", "apply-events")
        page.reload()
        assert status.get_attribute("data-status") == "applied"
        applied_at = page.locator(f"#requests tr[data-post-id='{post}'] .applied-at").inner_text()
        assert applied_at.endswith("UTC")
        assert page.get_attribute("#photo-status", "data-included") == "no"
        assert "revoked_by_event" in page.inner_text("#photo-status")

        world.cli("dataset", "purge")
        page.reload()
        assert status.get_attribute("data-status") == "purged"
        assert page.locator(f"#requests tr[data-post-id='{post}'] .purged-at").inner_text().endswith("UTC")

        # "Was this photo used?" with another of the owner's training images: found, with its versions.
        page.goto(f"{base}/used")
        page.set_input_files("#used-image", str(world.image_path(posts[1])))
        page.click("#used-form button")
        assert page.get_attribute("#used-answer", "data-answer") == "yes"
        match = page.locator(f"#used-matches tr[data-post-id='{posts[1]}']")
        assert "(yours)" in match.inner_text() and MODEL_ID in match.inner_text()


def test_non_owner_finds_a_reposted_training_image(world, make_app, browser, tmp_path):
    from PIL import Image

    owner_id, posts = sorted(world.included_posts().items())[1]
    repost = tmp_path / "found-online.jpg"
    img = Image.open(world.image_path(posts[0])).convert("RGB")
    img.resize((img.width * 2, img.height * 2)).save(repost, "JPEG", quality=88)
    with live_server(make_app()) as base:
        page = browser.new_page()
        _sign_up(page, base)
        page.goto(f"{base}/used")
        page.set_input_files("#used-image", str(repost))
        page.click("#used-form button")
        assert page.get_attribute("#used-answer", "data-answer") in ("yes", "possibly")
        match = page.locator(f"#used-matches tr[data-post-id='{posts[0]}']")
        assert match.count() == 1 and "(yours)" not in match.inner_text()


def test_arena_votes_change_the_ranking(world, make_app, browser):
    from imagine.db.models_owners import ArenaBattle

    app = make_app()

    def battle_sides(url: str) -> tuple[str, str]:
        with app.state.ctx.sessions() as db:  # the test peeks at what the voter is not shown
            battle = db.get(ArenaBattle, url.rstrip("/").rsplit("/", 1)[-1])
            return battle.left, battle.right

    def vote_for(page, base: str, contestant: str | None) -> str:
        page.goto(f"{base}/arena")
        page.fill("#arena-prompt", "a yellow star above a green tree")
        page.click("#arena-go")
        page.wait_for_selector("#vote-form")
        page.wait_for_load_state("load")  # the images arrive after the form: wait for them before looking
        assert page.locator("#left-image img").evaluate("img => img.complete && img.naturalWidth > 0")
        left, right = battle_sides(page.url)
        choice = "left" if contestant in (None, left) else "right"
        page.click(f"#vote-{choice}")
        page.wait_for_selector("#rankings")
        return left if choice == "left" else right

    with live_server(app) as base:
        page = browser.new_page()
        _sign_up(page, base)
        page.goto(f"{base}/arena/results")
        assert page.locator("#no-votes").count() == 1
        first = vote_for(page, base, None)
        assert page.get_attribute("#rankings tbody tr:first-child", "data-contestant") == first
        other = ({"ddim-2", "euler-3"} - {first}).pop()
        vote_for(page, base, other)
        vote_for(page, base, other)
        assert page.get_attribute("#rankings tbody tr:first-child", "data-contestant") == other
        assert page.get_attribute(f"#rankings tr[data-contestant='{other}']", "data-votes") == "3"
        page.wait_for_load_state("load")  # the plot is drawn on request: wait for it
        assert page.locator("#rankings-plot").evaluate("img => img.complete && img.naturalWidth > 0")


def test_admin_sees_retrain_due_after_a_revocation(world, make_app, browser):
    owner_id, posts = sorted(world.included_posts().items())[0]
    app = make_app(retrain_deadline_days=0)
    with live_server(app) as base:
        admin = browser.new_page()
        make_admin(app, _sign_up(admin, base))
        owner = browser.new_context().new_page()
        _sign_up(owner, base)

        admin.goto(f"{base}/admin")
        retrain = admin.locator(f"#models tr[data-model-id='{MODEL_ID}'] .retrain")
        assert retrain.get_attribute("data-due") == "no"
        # A regular user sees no operator views at all.
        assert owner.goto(f"{base}/admin").status == 404

        owner.goto(f"{base}/owners")
        owner.fill("#claim-code", world.codes()[owner_id])
        owner.click("#claim-form button")
        owner.goto(f"{base}/owners/photos/{posts[0]}")
        owner.click("#delete-photo")
        world.cli("dataset", "apply-events")

        admin.reload()
        assert retrain.get_attribute("data-due") == "yes"
        assert "retrain due" in retrain.inner_text()
        assert int(admin.inner_text(f"#models tr[data-model-id='{MODEL_ID}'] .revoked-since")) >= 1
        admin.click("#diff-form button")
        assert posts[0] in admin.inner_text("#removed")
