"""The native API end to end: generation (sync, async + SSE), images, gallery, keys, metrics, error shape."""

from __future__ import annotations

import io
import json

from PIL import Image

from .conftest import bearer, sse_events

GEN = {"prompt": "a red circle above a blue car", "n": 2, "steps": 3, "seed": 11}


def test_sync_generation_delivers_stamped_images(client, user_key):
    r = client.post("/api/v1/generations", json=GEN, headers=bearer(user_key))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job"]["status"] == "succeeded"
    assert [i["seed"] for i in body["images"]] == [11, 12]
    png = client.get(body["images"][0]["url"], headers=bearer(user_key))
    assert png.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.size == (256, 256)  # upscaled to the delivered size by the provenance stamp
    assert "parameters" in image.info and "a red circle" in image.info["parameters"]

    from imagine.guard.verify import verify

    report = verify(png.content)
    assert report is not None


def test_async_job_streams_progress_then_done(client, user_key):
    r = client.post("/api/v1/jobs", json={**GEN, "steps": 4}, headers=bearer(user_key))
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    events = client.get(f"/api/v1/jobs/{job_id}/events", headers=bearer(user_key))
    assert events.headers["content-type"].startswith("text/event-stream")
    parsed = sse_events(events.text)
    kinds = [k for k, _ in parsed]
    assert kinds[-1] == "done" and "progress" in kinds
    done = json.loads(parsed[-1][1])
    assert done["job"]["status"] == "succeeded" and len(done["images"]) == 2
    job = client.get(f"/api/v1/jobs/{job_id}", headers=bearer(user_key)).json()
    assert job["status"] == "succeeded" and len(job["image_ids"]) == 2
    assert any(j["id"] == job_id for j in client.get("/api/v1/jobs", headers=bearer(user_key)).json())


def test_gallery_lists_newest_first_and_delete_removes_file(client, user_key):
    first = client.post("/api/v1/generations", json={**GEN, "n": 1}, headers=bearer(user_key)).json()
    second = client.post("/api/v1/generations", json={**GEN, "n": 1, "seed": 99}, headers=bearer(user_key)).json()
    page = client.get("/api/v1/gallery", params={"limit": 1}, headers=bearer(user_key)).json()
    assert page["images"][0]["id"] == second["images"][0]["id"] and page["next_before"]
    page2 = client.get("/api/v1/gallery", params={"limit": 1, "before": page["next_before"]},
                       headers=bearer(user_key)).json()
    assert page2["images"][0]["id"] == first["images"][0]["id"]
    image_id = first["images"][0]["id"]
    store = client.app.state.ctx.store
    with client.app.state.ctx.sessions() as db:
        from imagine.db.models import Image as ImageRow

        path = store.path(db.get(ImageRow, image_id).path)
    assert path.is_file()
    assert client.delete(f"/api/v1/images/{image_id}", headers=bearer(user_key)).status_code == 204
    assert not path.exists()
    assert client.get(f"/api/v1/images/{image_id}", headers=bearer(user_key)).status_code == 404


def test_keys_are_shown_once_stored_hashed_and_revocable(client, user_key):
    keys = client.get("/api/v1/keys", headers=bearer(user_key)).json()
    assert len(keys) == 1 and "key" not in keys[0] and user_key.startswith(keys[0]["prefix"])
    from sqlalchemy import select

    from imagine.db.models import ApiKey

    with client.app.state.ctx.sessions() as db:
        stored = db.scalars(select(ApiKey.key_hash)).all()
    assert user_key not in stored and len(stored[0]) == 64
    assert client.delete(f"/api/v1/keys/{keys[0]['id']}", headers=bearer(user_key)).status_code == 204
    r = client.get("/api/v1/keys", headers=bearer(user_key))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


def test_refused_prompt_gives_category_and_reason(client, user_key):
    r = client.post("/api/v1/generations", json={**GEN, "prompt": "a photo of Taylor Swift"}, headers=bearer(user_key))
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "content_policy_violation" and err["category"] and err["reason"]
    assert 'imagine_refusals_total{category="' in client.get("/metrics").text


def test_negative_prompt_may_name_unsafe_content_but_not_a_person(client, user_key):
    safe_negative = {**GEN, "n": 1, "negative_prompt": "nsfw, nude, gore"}
    r = client.post("/api/v1/generations", json=safe_negative, headers=bearer(user_key))
    assert r.status_code == 200, r.text  # steering away from unsafe content is what negatives are for
    r = client.post("/api/v1/generations", json={**GEN, "negative_prompt": "Taylor Swift"}, headers=bearer(user_key))
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "negative_prompt"


def test_metrics_report_queue_batches_latency(client, user_key):
    client.post("/api/v1/generations", json=GEN, headers=bearer(user_key))
    text = client.get("/metrics").text
    for name in ("imagine_queue_depth", "imagine_batch_images_bucket", "imagine_job_latency_seconds_count",
                 "imagine_refusals_total"):
        assert name in text
    assert 'imagine_jobs_total{status="succeeded"} 1.0' in text


def test_bad_input_gets_clear_4xx_in_one_shape(client, user_key):
    h = bearer(user_key)
    cases = [
        ({"json": {**GEN, "prompt": "x" * (1024 * 1024)}}, 413, "body_too_large"),
        ({"json": {**GEN, "prompt": "x" * 600}}, 400, "prompt_too_long"),
        ({"json": {**GEN, "prompt": "a red\x00 circle"}}, 400, "control_characters"),
        ({"json": {**GEN, "prompt": "a red \x1b[31m circle"}}, 400, "control_characters"),
        ({"json": {**GEN, "n": 5}}, 400, "invalid_request"),
        ({"json": {**GEN, "steps": 0}}, 400, "invalid_request"),
        ({"json": {**GEN, "sampler": "nope"}}, 400, "invalid_request"),
        ({"content": b'{"prompt": "a cat", ', "headers": {"Content-Type": "application/json"}}, 400, "malformed_json"),
        ({"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}}, 400, "malformed_json"),
    ]
    for kwargs, status, code in cases:
        headers = {**h, **kwargs.pop("headers", {})}
        r = client.post("/api/v1/generations", headers=headers, **kwargs)
        assert r.status_code == status, (code, r.text)
        err = r.json()["error"]
        assert err["code"] == code and err["message"] and err["type"], err
    r = client.post("/v1/images/generations", json={"prompt": "a cat", "size": "13x7"}, headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_size"
    r = client.get("/api/v1/nowhere", headers=h)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
