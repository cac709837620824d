"""`engine serve`: the index as a small JSON API and a search page (FastAPI on uvicorn), localhost by default.

Endpoints: GET /health, GET /search?q=TEXT, POST /search/image (multipart field `file`),
GET /items/{id}, GET /items/{id}/similar; the search page, thumbnails and /render are in `web`;
/docs serves Swagger UI from the fastapi-offline package (no CDN). Every search runs in a worker
thread under one lock (the model already uses every core) and gives up with 504 after
`timeout_s`; request bodies over `max_body_bytes` are refused with 413 before they are read, or
as soon as they exceed it when the client sends no Content-Length; a body still arriving after
`timeout_s` gets 408.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Literal
from urllib.parse import parse_qsl

import uvicorn
from fastapi import FastAPI, File, HTTPException, Path, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline
from starlette.responses import JSONResponse

from engine.errors import EngineError
from engine.index.protocol import MAX_HEAD_BYTES, JsonErrorsProtocol
from engine.index.search import Index, records
from engine.index.web import MAX_QUERY_CHARS, add_page

MAX_K = 1000
Modality = Literal["any", "image", "text"]


class BodySizeLimit:
    """ASGI middleware: 413 for a request body larger than `max_bytes`, declared or streamed, and 408
    for one still incomplete after `seconds` (a client trickling a body would hold its slot for ever)."""

    def __init__(self, app, max_bytes: int, seconds: float) -> None:
        self.app, self.max_bytes, self.seconds = app, max_bytes, seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(scope, receive, send)
        received, complete = 0, False
        deadline = asyncio.get_running_loop().time() + self.seconds

        async def limited_receive():
            nonlocal received, complete
            if complete:  # the body is in: later reads wait for a disconnect, which has no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - asyncio.get_running_loop().time()))
            except asyncio.TimeoutError:
                raise HTTPException(408, f"request body not received within {self.seconds:g} s") from None
            complete = not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes:,} bytes"

    async def _refuse(self, scope, receive, send) -> None:
        await JSONResponse({"detail": self._message()}, status_code=413)(scope, receive, send)


class Utf8Query:
    """ASGI middleware: 400 for a query string whose %-escapes are not UTF-8 (Starlette would
    silently turn them into U+FFFD and search for that)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            try:
                parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True, errors="strict")
            except UnicodeDecodeError:
                response = JSONResponse({"detail": "the query string is not valid UTF-8"}, status_code=400)
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


def create_app(index: Index, max_body_bytes: int = 10 * 2**20, timeout_s: float = 10.0) -> FastAPI:
    """The API and the search page over one opened index."""
    app = FastAPIOffline(
        title="engine index", redoc_url=None, description=f"Search {index.directory} ({len(index):,} items) by text, image or item id. The search page is at /."
    )
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes, seconds=timeout_s)
    app.add_middleware(Utf8Query)
    lock = threading.Lock()

    def locked(function, *args):
        if not lock.acquire(timeout=timeout_s):
            raise TimeoutError
        try:
            return function(*args)
        finally:
            lock.release()

    async def run(function, *args) -> list[dict]:
        try:
            hits = await asyncio.wait_for(run_in_threadpool(locked, function, *args), timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            raise HTTPException(504, f"search took longer than {timeout_s:g} s") from None
        except EngineError as error:
            raise HTTPException(400, str(error)) from None
        return records(hits)

    @app.get("/health")
    def health() -> dict:
        manifest = index.manifest
        return {
            "status": "ok",
            "count": manifest["count"],
            "counts": manifest["counts"],
            "dim": manifest["dim"],
            "index": manifest["index"]["factory"],
            "recall_at_10": manifest["index"]["recall_at_10"],
            "checkpoint": manifest["checkpoint"]["hash"][:12],
            "reads": "pixels" if index.encoder.model.kind == "clippo" else "tokens",
        }

    @app.get("/search")
    async def search_text(
        q: str = Query(min_length=1, max_length=MAX_QUERY_CHARS, description="query text, any language"),
        k: int = Query(10, ge=1, le=MAX_K),
        modality: Modality = "any",
    ) -> dict:
        return {"query": q, "results": await run(index.search_text, q, k, modality)}

    @app.post("/search/image")
    async def search_image(file: UploadFile = File(description="the query picture"), k: int = Query(10, ge=1, le=MAX_K), modality: Modality = "any") -> dict:
        data = await file.read()
        return {"query": file.filename, "results": await run(index.search_image, data, k, modality)}

    @app.get("/items/{item_id}")
    def item(item_id: int = Path(ge=0)) -> dict:
        try:
            return index.item(item_id)
        except EngineError as error:
            raise HTTPException(404, str(error)) from None

    @app.get("/items/{item_id}/similar")
    async def similar(item_id: int = Path(ge=0), k: int = Query(10, ge=1, le=MAX_K), modality: Modality = "any") -> dict:
        if item_id >= len(index):
            raise HTTPException(404, f"no item {item_id}")
        return {"query": item_id, "results": await run(index.search_similar, item_id, k, modality)}

    add_page(app, index, locked)
    return app


def serve(index: Index, host: str, port: int, max_body_bytes: int, timeout_s: float) -> None:
    """Run the API until interrupted."""
    print(f"serving {index.directory} ({len(index):,} items): search page http://{host}:{port}/  (API docs: /docs)", flush=True)
    # No `limit_concurrency`: uvicorn counts open connections against it, so 64 idle ones made it
    # answer every request with a plain-text 503. Searches queue on the lock and time out instead.
    # The h11 parser with a larger head limit and JSON refusals (engine/index/protocol.py).
    app = create_app(index, max_body_bytes, timeout_s)
    uvicorn.run(app, host=host, port=port, http=JsonErrorsProtocol, h11_max_incomplete_event_size=MAX_HEAD_BYTES, timeout_keep_alive=5, log_level="warning")
