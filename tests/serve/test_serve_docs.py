"""The docs keep up with the code: every error code and every serve setting is documented."""

from __future__ import annotations

from pathlib import Path

from imagine.config import ServeSettings
from imagine.serve.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_error_code_is_in_api_md_with_its_status():
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    for code, (status, kind) in ERROR_CODES.items():
        assert f"| `{code}` | {status} | `{kind}` |" in text, code


def test_every_serve_setting_is_in_service_md():
    text = (DOCS / "service.md").read_text(encoding="utf-8")
    for name in ServeSettings.model_fields:
        assert f"`{name}`" in text, name


def test_interactive_api_docs_load_without_internet(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "/static-offline-docs/swagger-ui-bundle.js" in page.text
    bundle = client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
    assert client.get("/openapi.json").json()["paths"]["/v1/images/generations"]
