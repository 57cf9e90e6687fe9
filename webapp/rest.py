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
            return _error(413, f"upload {too_large(declared)}")
        try:
            form = await request.form(max_files=1, max_fields=10)
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

    return router


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
