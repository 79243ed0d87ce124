"""Contesting a refusal in the web app (headless Chromium): refused, "This was wrong", seen by an operator."""

from __future__ import annotations

import uuid

import pytest

from .conftest import live_server
from .test_serve_browser import browser_page, shot  # noqa: F401 - fixture


@pytest.mark.slow
@pytest.mark.browser
def test_a_refused_user_contests_the_refusal_and_the_operator_sees_it(app_factory, browser_page):  # noqa: F811
    from sqlalchemy import select

    from imagine.db.models import User

    page = browser_page
    app = app_factory()
    email = f"contest-{uuid.uuid4().hex[:8]}@example.org"
    with live_server(app) as url:
        page.goto(f"{url}/signup")
        page.fill("#email", email)
        page.fill("#password", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_selector("#logout")

        # Refused, with the rule in plain words and a way to say it was wrong.
        page.fill("#prompt", "nude woman in a bath, watercolour study")
        page.click("#generate")
        page.wait_for_selector("#message.notice-content_policy_violation:not([hidden])")
        text = page.inner_text("#message")
        assert "Refused by the sexual-content rule" in text and "try something else" not in text.lower()
        page.fill("#contest-comment", "an art class study")
        page.click("#contest-send")
        page.wait_for_selector("#contest-result")
        assert "sent to the operators" in page.inner_text("#contest-result")
        shot(page, "policy-01-contested")

        # The operator's page lists it beside refusals by category.
        with app.state.ctx.sessions.begin() as db:
            db.scalar(select(User).where(User.email == email)).role = "admin"
        page.goto(f"{url}/admin")
        page.wait_for_selector("#policy-reports")
        table = page.inner_text("#policy-reports")
        assert "nude woman in a bath, watercolour study" in table and "an art class study" in table
        assert "unsafe.sexual: 1" in page.inner_text("#reports-by-code")
        assert page.is_visible("#refusals")  # the refusal itself was counted too
        shot(page, "policy-02-admin")
