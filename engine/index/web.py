"""The search page of `engine serve`: GET / and its static files, photo thumbnails, and the text
pages the model reads (GET /render), all served from the package so the page works offline."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from PIL import Image
from starlette.responses import FileResponse

from engine.errors import EngineError
from engine.index.search import Index
from engine.index.thumbnails import MAX_SIZE, MIN_SIZE, Thumbnails
from engine.paths import fonts_dir

STATIC = Path(__file__).parent / "static"
MAX_QUERY_CHARS = 2000  # the longest query or /render text accepted; a page holds far less
LANG_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"  # a BCP-47 / ISO 639 code, nothing else


def add_page(app: FastAPI, index: Index, locked) -> None:
    """Add the page, /items/{id}/thumbnail and /render to `app`; `locked(function, *args)` runs a
    call under the app's model lock (rendering shares the encoder's renderers with searches)."""
    thumbnails = Thumbnails(index.metadata)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/fonts", StaticFiles(directory=fonts_dir()), name="fonts")  # the pinned fonts show every script

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/items/{item_id}/thumbnail", responses={200: {"content": {"image/jpeg": {}}}, 304: {}, 404: {}}, response_class=Response)
    def thumbnail(
        request: Request, item_id: int = PathParam(ge=0), size: int = Query(256, ge=MIN_SIZE, le=MAX_SIZE, description="longest side in pixels")
    ) -> Response:
        """A JPEG preview of an indexed photo (never enlarged); 404 if the photo left the disk."""
        headers = {"Cache-Control": "private, no-cache"}  # revalidate: a photo may be deleted or edited
        try:
            etag = thumbnails.etag(item_id, size)
            if etag in request.headers.get("if-none-match", ""):
                return Response(status_code=304, headers={**headers, "ETag": etag})
            made = thumbnails.get(item_id, size)
        except EngineError as error:
            raise HTTPException(404, str(error)) from None
        return Response(made.jpeg, media_type="image/jpeg", headers={**headers, "ETag": made.etag})

    @app.get("/render", responses={200: {"content": {"image/png": {}}}}, response_class=Response)
    async def render(
        text: str = Query(min_length=1, max_length=MAX_QUERY_CHARS, description="any text"),
        lang: str | None = Query(None, max_length=35, pattern=LANG_PATTERN, description="language hint (picks CJK faces); searches use none"),
    ) -> Response:
        """The page of pixels the model reads for `text`, as PNG, drawn with the index's checkpoint settings."""
        try:
            pixels = await run_in_threadpool(locked, index.encoder.text_pixels, text, lang)
        except TimeoutError:
            raise HTTPException(504, "the model is busy: try again") from None
        except EngineError as error:
            raise HTTPException(409, str(error)) from None
        buffer = io.BytesIO()
        Image.fromarray(pixels, "L").save(buffer, "PNG")
        return Response(buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})
