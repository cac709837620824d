"""The search page's endpoints over a real index (fresh cpu-tiny model): the page and its files,
photo thumbnails by id, /render, and offline /docs."""

from __future__ import annotations

import io
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import engine
from engine.index import build as builder
from engine.index.collect import images_in, text_item
from engine.index.serve import create_app
from engine.index.thumbnails import MAX_SIZE, Thumbnails
from index_helpers import TEXTS, make_checkpoint, make_photos

PHOTOS = 6


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    pytest.importorskip("engine.render", reason="the renderer (engine.render) is not available")
    root = tmp_path_factory.mktemp("page")
    checkpoint = make_checkpoint(root / "ckpt")
    make_photos(root / "photos", count=PHOTOS)
    builder.build(root / "index", checkpoint, images_in(root / "photos") + [text_item(t, "xx") for t in TEXTS], [])
    return engine.open_index(root / "index")


@pytest.fixture(scope="module")
def client(index):
    with TestClient(create_app(index, timeout_s=30)) as client:
        yield client


def photo_ids(index) -> list[int]:
    return [int(i) for i in index.metadata.index[index.metadata["modality"] == "image"]]


def decoded(response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


def test_the_page_and_everything_it_loads_come_from_the_server(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'dir="auto"' in page.text and 'href="/docs"' in page.text
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert "/static/app.js" in assets and "/static/style.css" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    style = client.get("/static/style.css").text
    fonts = re.findall(r'url\("(/fonts/[^"]+)"\)', style)
    assert len(fonts) >= 5 and all(client.head(font).status_code == 200 for font in fonts)
    assert not re.search(r"https?://", page.text + style + client.get("/static/app.js").text)


def test_docs_work_offline(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and not re.search(r"https?://", docs.text)
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', docs.text):
        assert client.get(asset).status_code == 200, asset
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/search", "/items/{item_id}/thumbnail", "/render"} <= set(paths)


def test_thumbnail_is_a_bounded_jpeg_with_validators(index, client):
    first = photo_ids(index)[-1]
    response = client.get(f"/items/{first}/thumbnail", params={"size": 32})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    picture = decoded(response)
    assert picture.format == "JPEG" and max(picture.size) == 32
    original = Image.open(index.item(first)["path"]).size
    assert abs(picture.size[0] / picture.size[1] - original[0] / original[1]) < 0.1  # aspect kept
    assert max(decoded(client.get(f"/items/{first}/thumbnail", params={"size": MAX_SIZE})).size) == max(original)  # never enlarged
    etag = response.headers["etag"]
    assert "no-cache" in response.headers["cache-control"]
    again = client.get(f"/items/{first}/thumbnail", params={"size": 32}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content


def test_thumbnail_refuses_what_is_not_a_photo_of_the_index(index, client):
    text_id = len(index) - 1
    for path, status, words in [
        ("/items/999/thumbnail", 404, "no item 999"),
        (f"/items/{text_id}/thumbnail", 404, "is a text"),
        ("/items/-1/thumbnail", 422, "greater than or equal"),
        ("/items/abc/thumbnail", 422, "integer"),
        ("/items/0/thumbnail?size=100000", 422, "less than or equal"),
        ("/items/0/thumbnail?size=0", 422, "greater than or equal"),
    ]:
        response = client.get(path)
        assert response.status_code == status and words in str(response.json()["detail"]), path
    for attack in (
        "/items/..%2f..%2fetc%2fpasswd/thumbnail",
        "/items/../../etc/passwd/thumbnail",
        "/items/%2e%2e/thumbnail",
        "/items/0%2f..%2f..%2fetc%2fpasswd/thumbnail",
    ):
        response = client.get(attack)
        assert response.status_code in (404, 422) and b"root:" not in response.content, attack


def test_a_photo_deleted_after_indexing_is_a_clear_404(index, client, tmp_path):
    gone = photo_ids(index)[0]
    path = index.item(gone)["path"]
    shutil.move(path, tmp_path / "aside")
    try:
        response = client.get(f"/items/{gone}/thumbnail")
        assert response.status_code == 404 and "no longer on disk" in response.json()["detail"]
    finally:
        shutil.move(tmp_path / "aside", path)
    assert client.get(f"/items/{gone}/thumbnail").status_code == 200


def test_concurrent_thumbnail_requests_agree(index, client):
    ids = photo_ids(index)
    wanted = [(ids[i % len(ids)], 64 + 32 * (i % 3)) for i in range(48)]
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda job: client.get(f"/items/{job[0]}/thumbnail", params={"size": job[1]}), wanted))
    assert all(r.status_code == 200 for r in responses)
    by_job: dict = {}
    for job, response in zip(wanted, responses):
        by_job.setdefault(job, set()).add(response.content)
    assert all(len(bodies) == 1 for bodies in by_job.values())  # every request for one thumbnail got the same bytes


def test_thumbnail_cache_stays_within_its_budget(index):
    ids = photo_ids(index)
    one = len(Thumbnails(index.metadata).get(ids[0], 256).jpeg)
    thumbnails = Thumbnails(index.metadata, budget_bytes=2 * one)
    for size in range(64, 320, 16):
        for item in ids:
            thumbnails.get(item, size)
    assert 0 < thumbnails.cached_bytes <= 2 * one


def test_render_shows_the_page_the_model_reads(index, client):
    response = client.get("/render", params={"text": "วงกลมสีแดง"})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    picture = decoded(response)
    side = index.encoder.model.config.image_size
    assert picture.size == (side, side) and picture.mode == "L"
    assert np.array_equal(np.asarray(picture), index.encoder.text_pixels("วงกลมสีแดง"))  # the same pixels the search encodes
    assert client.get("/render", params={"text": "赤い丸", "lang": "ja"}).status_code == 200


def test_render_refuses_bad_input(client):
    assert client.get("/render", params={"text": "x" * 10_000}).status_code == 422
    assert client.get("/render", params={"text": ""}).status_code == 422
    assert client.get("/render").status_code == 422
    assert client.get("/render", params={"text": "a", "lang": "../../etc"}).status_code == 422
