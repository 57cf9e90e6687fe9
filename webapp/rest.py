"""REST routes for scripts and other services, beside Gradio's own API.

    curl -F image=@photo.jpg http://127.0.0.1:7860/api/classify
    -> {"schema": "glasses.prediction.v1", "name": "photo.jpg", "width": W, "height": H,
        "faces": [{"face": 0, "box": [x1, y1, x2, y2], "face_prob": p, "glasses_prob": q, "label": ...}],
        "error": null}

The answer is glasses.Prediction's JSON, as `glasses predict --format json` prints it for the same photo
(webapp/rest_models.py declares it for the OpenAPI document). A photo that cannot be read gets 400 with that
object, its `error` saying why; a request the route cannot take gets {"error": "<reason>"}: 400 (no form, no
file), 413 (too large), 405 (another method). GET (or HEAD) /api/health
is 200 once the model is loaded (the server only listens after that). Any other method gets 405 with an
Allow header naming the methods the route takes.
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive

from glasses import ImageError, Prediction
from webapp.rest_models import ErrorModel, prediction_model
from webapp.limits import MAX_UPLOAD_BYTES, too_large
from webapp.shared_predictor import UNEXPECTED_ERROR, SharedPredictor

FIELD = "image"
USAGE = f"send the photo as the multipart form field '{FIELD}', e.g. curl -F {FIELD}=@photo.jpg URL"
# The multipart envelope around the file (boundaries, part headers) on top of the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024

log = logging.getLogger(__name__)
# The request /api/classify takes, for the OpenAPI document: the route parses its form itself (to bound it).
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FIELD],
    "properties": {FIELD: {"type": "string", "format": "binary", "description": "the photo"}}}}}}}


def rest_router(predictor: SharedPredictor) -> APIRouter:
    PredictionModel = prediction_model(predictor.labels)   # noqa: N806 - a class, named as the document shows it
    router = APIRouter(prefix="/api")

    @router.api_route("/health", methods=["GET", "HEAD"])
    def health() -> dict:
        return {"status": "ok", "weights": predictor.weights.name, "threshold": predictor.threshold,
                "attribute": predictor.labels.attribute, "labels": list(predictor.labels.pair)}

    @router.post("/classify", response_model=PredictionModel, openapi_extra=_UPLOAD_BODY, responses={
        400: {"model": PredictionModel | ErrorModel, "description": "an unreadable photo, or a request without one"},
        405: {"model": ErrorModel}, 413: {"model": ErrorModel, "description": "the upload is too large"},
        500: {"model": PredictionModel, "description": "classifying the photo failed unexpectedly"}})
    async def classify(request: Request) -> JSONResponse:
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:   # refuse before reading the body
            return _refuse_unread(f"upload {too_large(declared)}")
        # The form is parsed as the body arrives; the photo goes to a temporary file (in memory up to 1 MB,
        # then on disk, as Starlette spools uploads), and is read into memory only when the model gets to it,
        # so that uploads waiting their turn hold a megabyte each at most, not their whole size.
        # Whatever the parser leaves unread (all of a body that is not a form, the rest of a malformed one) is
        # read and dropped before the answer, up to the limit: a body too large is told so whatever it holds,
        # and the connection is left ready for the client's next request.
        body = _BodyWithinLimit(request.receive)
        try:
            try:
                async with Request(request.scope, body).form(max_files=1, max_fields=10) as form:
                    await body.drain()
                    return await _classify_form(predictor, form)
            except (HTTPException, MultiPartException) as err:
                await body.drain()
                return _error(400, f"unreadable form data ({getattr(err, 'detail', err)}); {USAGE}")
        except _TooLarge:   # a chunked upload declares no length: it is cut off at the limit instead
            return _refuse_unread(f"upload {too_large()}")

    # Every other method, HEAD and OPTIONS included, is told which one the route takes; without these,
    # Gradio's catch-all mount at / would answer a bare 404. OPTIONS gets 405 too rather than a 2xx: the
    # routes send no CORS headers (they serve scripts and services, not pages of other sites), and a 2xx to a
    # browser's CORS preflight would promise what they do not give.
    router.add_route(router.prefix + "/classify", _wrong_method("/api/classify takes POST; " + USAGE, "POST"))
    router.add_route(router.prefix + "/health", _wrong_method("/api/health takes GET or HEAD", "GET, HEAD"))
    return router


async def _classify_form(predictor: SharedPredictor, form: FormData) -> JSONResponse:
    upload = form.get(FIELD)
    if not isinstance(upload, UploadFile):
        return _error(400, f"no file in the form field '{FIELD}'; {USAGE}")
    name = upload.filename or FIELD
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        return _error(413, f"{name}: {too_large(upload.size)}")
    try:
        result = await predictor.classify_async(upload.file, name)
    except ImageError as err:
        return JSONResponse(Prediction.failed(name, err.reason).to_dict(), status_code=400)
    except Exception:  # noqa: BLE001 - a client gets JSON naming its file, never a bare 500 page
        log.exception("classifying %s failed", name)   # the details are the operator's, not the client's
        return JSONResponse(Prediction.failed(name, UNEXPECTED_ERROR).to_dict(), status_code=500)
    return JSONResponse(result.to_dict())


def _wrong_method(message: str, allow: str) -> JSONResponse:
    """405 naming the methods a route takes. Routed as it is: a Response is an ASGI app, and Starlette routes
    every method to an ASGI app (a function endpoint would get GET and HEAD only)."""
    response = _error(405, message)
    response.headers["Allow"] = allow
    return response


class _TooLarge(Exception):
    """The request body outgrew an upload and its form envelope."""


class _BodyWithinLimit:
    """The request's `receive`, raising _TooLarge as soon as the body it has handed over outgrows an upload and
    its form envelope."""

    def __init__(self, receive: Receive):
        self._receive = receive
        self._received = 0
        self._complete = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            self._complete = not message.get("more_body", False)
            if self._received > MAX_UPLOAD_BYTES + FORM_OVERHEAD_BYTES:
                raise _TooLarge
        return message

    async def drain(self) -> None:
        """Receive the rest of the body, if any, and drop it."""
        while not self._complete:
            if (await self())["type"] == "http.disconnect":
                raise ClientDisconnect


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _refuse_unread(message: str) -> JSONResponse:
    """413 before the body is read to its end; the connection closes, else the server would go on receiving
    the rest only to drop it."""
    response = _error(413, message)
    response.headers["Connection"] = "close"
    return response
