"""docs/api.md's OpenAI parameter table is the server's: same rows as `PARAMS`, and every value the table says is
refused (plus unknown extras) really answers 400 naming the parameter, on every endpoint that lists it."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from imagine.serve.openai_params import PARAMS

from .conftest import bearer

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SHORT = {"gen": "generations", "edit": "edits", "var": "variations"}


def _table() -> dict[str, dict]:
    text = API_MD.read_text(encoding="utf-8")
    start = text.index("| Parameter | Endpoints | Status |")
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = cells[0].strip("`")
        rows[name] = {"endpoints": tuple(SHORT[e.strip()] for e in cells[1].split(",")), "status": cells[2],
                      "refused": tuple(re.findall(r"`([^`]+)`", cells[4]))}
    return rows


def test_docs_table_lists_every_parameter_as_the_server_has_it():
    table = _table()
    assert list(table) == [p.name for p in PARAMS]
    for p in PARAMS:
        assert table[p.name] == {"endpoints": p.endpoints, "status": p.status, "refused": p.refused}, p.name


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def _post(client, key, endpoint: str, name: str, value):
    if endpoint == "generations":
        return client.post("/v1/images/generations", json={"prompt": "a cat", name: value}, headers=bearer(key))
    data = {name: value} | ({"prompt": "a cat"} if endpoint == "edits" else {})
    return client.post(f"/v1/images/{endpoint}", data=data, files={"image": ("i.png", _png(), "image/png")},
                       headers=bearer(key))


@pytest.mark.parametrize("endpoint", ["generations", "edits", "variations"])
def test_every_refused_value_and_unknown_extra_is_a_400_naming_it(client, user_key, endpoint):
    cases = [(p.name, value) for p in PARAMS if endpoint in p.endpoints for value in p.refused]
    cases += [("steps", 30), ("guidance", 3), ("sampler", "ddim")]  # our native knobs are not OpenAI parameters
    cases += [(p.name, "x") for p in PARAMS if endpoint not in p.endpoints and p.name not in ("image", "mask")]
    assert len(cases) >= 6
    for name, value in cases:
        r = _post(client, user_key, endpoint, name, value)
        assert r.status_code == 400, (endpoint, name, value, r.text)
        error = r.json()["error"]
        assert error["param"] == name and name in error["message"], (endpoint, name, error)
