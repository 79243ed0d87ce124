"""schemathesis over our OpenAPI schema, in-process (ASGI): generated requests never cause a server error."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from .conftest import new_key, sign_up


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, tiny_model_dir, components):
    from imagine.config import GenerateSettings, ServeSettings, Settings
    from imagine.serve.app import create_app

    cfg = Settings(data_home=tmp_path_factory.mktemp("schema-home"), model=tiny_model_dir,
                   generate=GenerateSettings(steps=2),
                   serve=ServeSettings(cookie_secure=False, max_steps=2, queue_max=10_000, rate_user="100000/minute",
                                       rate_ip="100000/minute"))
    app = create_app(cfg, limiter_namespace=f"schema-{uuid.uuid4().hex}", **components)
    with TestClient(app) as c:
        sign_up(c)
        app.state.test_key = new_key(c)
        yield app


def _schema_app():
    """Building the app is cheap (nothing loads before start-up), so the schema can be read at collection."""
    from imagine.config import Settings
    from imagine.serve.app import create_app

    return create_app(Settings())


schema = schemathesis.openapi.from_dict(_schema_app().openapi())


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_no_server_errors(case, api_app):
    response = case.call(app=api_app, headers={"Authorization": f"Bearer {api_app.state.test_key}"})
    case.validate_response(response, checks=[not_a_server_error])
