"""The official `openai` client, pointed at a real server on loopback, generates images and gets refusals."""

from __future__ import annotations

import base64
import io

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from .conftest import live_server, new_key, sign_up


@pytest.mark.slow
def test_official_openai_client_against_loopback(app_factory):
    app = app_factory()
    with TestClient(app) as c:
        sign_up(c)
        key = new_key(c)
    home = app.state.ctx.settings.data_home
    with live_server(app_factory(home=home)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=120)
        result = client.images.generate(prompt="a red circle above a blue car", n=2, size="256x256",
                                        response_format="b64_json", user="tester",
                                        extra_body={"seed": 42, "negative_prompt": "blurry"})
        assert result.created > 0 and len(result.data) == 2
        image = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
        assert image.format == "PNG" and image.size == (256, 256)
        assert "Seed: 42" in image.info["parameters"]

        by_url = client.images.generate(prompt="a green tree", n=1, response_format="url")
        png = httpx.get(by_url.data[0].url, headers={"Authorization": f"Bearer {key}"})
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"

        with pytest.raises(openai.BadRequestError) as refused:
            client.images.generate(prompt="a photo of Taylor Swift", n=1)
        assert refused.value.code == "content_policy_violation"
        assert refused.value.body["category"] and refused.value.body["reason"]

        with pytest.raises(openai.BadRequestError) as bad_size:
            client.images.generate(prompt="a cat", size="1024x1024")
        assert bad_size.value.code == "invalid_size"

        bad_key = openai.OpenAI(base_url=f"{url}/v1", api_key="imk_wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad_key.images.generate(prompt="a cat")
