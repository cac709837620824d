"""The HTTP API over a real index (fresh cpu-tiny model), through FastAPI's TestClient."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

import engine
from engine.index import build as builder
from engine.index.collect import images_in, text_item
from engine.index.serve import MAX_QUERY_CHARS, create_app
from index_helpers import TEXTS, make_checkpoint, make_photos, shape

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    pytest.importorskip("engine.render", reason="the renderer (engine.render) is not available")
    root = tmp_path_factory.mktemp("serve")
    checkpoint = make_checkpoint(root / "ckpt")
    make_photos(root / "photos", count=6)
    builder.build(root / "index", checkpoint, images_in(root / "photos") + [text_item(t) for t in TEXTS], [])
    return engine.open_index(root / "index")


@pytest.fixture(scope="module")
def client(index):
    with TestClient(create_app(index, max_body_bytes=LIMIT, timeout_s=30)) as client:
        yield client


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_health_describes_the_index(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["count"] == 12 and body["counts"] == {"image": 6, "text": 6} and body["index"] == "Flat"


def test_search_by_text_finds_the_text(client):
    response = client.get("/search", params={"q": TEXTS[3], "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["item"] == TEXTS[3] and results[0]["rank"] == 1 and len(results) == 3
    images = client.get("/search", params={"q": TEXTS[0], "k": 50, "modality": "image"}).json()["results"]
    assert len(images) == 6 and {r["modality"] for r in images} == {"image"}


def test_search_by_uploaded_image_and_by_item(client):
    first = client.get("/items/0").json()
    assert first["modality"] == "image" and first["id"] == 0
    with open(first["path"], "rb") as handle:
        response = client.post("/search/image", files={"file": ("q.png", handle.read())}, params={"k": 2})
    assert response.status_code == 200 and response.json()["results"][0]["id"] == 0
    similar = client.get("/items/0/similar", params={"k": 4}).json()["results"]
    assert len(similar) == 4 and 0 not in [r["id"] for r in similar]


def test_bad_requests_are_refused_clearly(client):
    assert client.get("/search", params={"q": "x" * (MAX_QUERY_CHARS + 1)}).status_code == 422
    assert client.get("/search", params={"q": "a", "k": 0}).status_code == 422
    assert client.get("/search", params={"q": "a", "modality": "video"}).status_code == 422
    assert client.get("/items/999").status_code == 404 and client.get("/items/999/similar").status_code == 404
    broken = client.post("/search/image", files={"file": ("x.jpg", b"<html>not an image</html>")})
    assert broken.status_code == 400 and "cannot read the query image" in broken.json()["detail"]


def test_oversized_uploads_are_rejected(client):
    big = png(Image.effect_noise((300, 300), 80).convert("RGB"))
    assert len(big) > LIMIT
    declared = client.post("/search/image", files={"file": ("big.png", big)})
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]

    boundary = "engine-test-boundary"
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n').encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks():  # a generator body goes out chunked, without Content-Length: the limit must hold while streaming
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = client.post("/search/image", content=chunks(), headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert streamed.status_code == 413
    small = client.post("/search/image", files={"file": ("s.png", png(shape("red", "circle")))})
    assert small.status_code == 200


def test_a_search_over_its_time_limit_gets_504(index):
    with TestClient(create_app(index, timeout_s=1e-6)) as impatient:
        response = impatient.get("/search", params={"q": "a red circle"})
    assert response.status_code == 504 and "longer than" in response.json()["detail"]
