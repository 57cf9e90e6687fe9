"""REST routes for scripts and other services, beside Gradio's own API.

    curl -F image=@photo.jpg http://127.0.0.1:7860/api/classify
    -> {"width": W, "height": H, "faces": [{"box": [x1, y1, x2, y2], "face_prob": p, "glasses_prob": q, "label": ...}]}

A bad upload gets 400 (or 413 when too large) with {"error": "<file>: <reason>"}; GET /api/health is 200 once
the model is loaded (the server only listens after that).
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from glasses import ImageError
from webapp.limits import MAX_UPLOAD_BYTES, too_large
from webapp.shared_predictor import SharedPredictor

FIELD = "image"
USAGE = f"send the photo as the multipart form field '{FIELD}', e.g. curl -F {FIELD}=@photo.jpg URL"
# The multipart envelope around the file (boundaries, part headers) on top of the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024

log = logging.getLogger(__name__)


def rest_router(predictor: SharedPredictor) -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.get("/health")
    def health() -> dict:
        return {"status": "ok", "weights": predictor.weights.name, "threshold": predictor.threshold}

    @router.post("/classify")
    async def classify(request: Request) -> JSONResponse:
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:   # refuse before reading the body
            return _refuse_unread(f"upload {too_large(declared)}")
        body = await _body_within_limit(request)
        if body is None:   # a chunked upload declares no length: cut it off at the limit instead
            return _refuse_unread(f"upload {too_large()}")
        try:
            form = await Request(request.scope, _replay(body)).form(max_files=1, max_fields=10)
        except (HTTPException, MultiPartException) as err:
            return _error(400, f"unreadable form data ({getattr(err, 'detail', err)}); {USAGE}")
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            return _error(400, f"no file in the form field '{FIELD}'; {USAGE}")
        name = upload.filename or FIELD
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            return _error(413, f"{name}: {too_large(upload.size or len(data))}")
        try:
            result = await run_in_threadpool(predictor.classify, data, name)
        except ImageError as err:
            return _error(400, str(err))
        except Exception as err:  # noqa: BLE001 - a client gets JSON naming its file, never a bare 500 page
            log.exception("classifying %s failed", name)
            return _error(500, f"{name}: unexpected error: {type(err).__name__}: {err}")
        return JSONResponse(result.to_dict())

    @router.api_route("/classify", methods=["GET", "PUT", "PATCH", "DELETE"])
    def classify_usage() -> JSONResponse:
        """Someone who opens the route in a browser, or a script with the wrong method, learns how to call it;
        without this, Gradio's catch-all mount at / would answer a bare 404."""
        response = _error(405, f"/api/classify takes POST; {USAGE}")
        response.headers["Allow"] = "POST"
        return response

    return router


async def _body_within_limit(request: Request) -> bytes | None:
    """The request body, or None as soon as it outgrows an upload and its form envelope."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _replay(body: bytes):
    """An ASGI `receive` that hands the form parser a body already read."""
    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}
    return receive


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _refuse_unread(message: str) -> JSONResponse:
    """413 before the body is read to its end; the connection closes, else the server would go on receiving
    the rest only to drop it."""
    response = _error(413, message)
    response.headers["Connection"] = "close"
    return response
