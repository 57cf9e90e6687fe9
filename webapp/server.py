"""The ASGI app `python app.py` serves: REST routes under /api, the Gradio UI (and Gradio's own API) at /."""
from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

from webapp.connections import LogClientDisconnects
from webapp.context import AppContext
from webapp.limits import MAX_UPLOAD_BYTES
from webapp.relabel_tab import HOTKEYS_JS
from webapp.rest import rest_router
from webapp.ui import build_ui

# Visitors beyond this many waiting are told the queue is full; below it, everyone is served in turn.
MAX_QUEUE = 200


def create_app(context: AppContext) -> FastAPI:
    # No generated OpenAPI pages: /api/classify reads its form itself, so they would show no parameters;
    # README.md ("App") documents the routes.
    app = FastAPI(title="glasses", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(LogClientDisconnects)   # around the REST routes and Gradio's alike
    app.include_router(rest_router(context.predictor))   # before Gradio's catch-all mount at /
    # One run of each event at a time (SharedPredictor's one worker thread orders runs across events and REST);
    # the queue shows visitors their place instead of failing them.
    demo = build_ui(context).queue(default_concurrency_limit=1, max_size=MAX_QUEUE)
    # Gradio refuses input files that were not uploaded (a visitor naming /etc/passwd or a dataset photo) only
    # in apps it launched itself: mount_gradio_app leaves that check off, so it is turned on here.
    demo.has_launched = True
    # ssr_mode=False: server-side rendering needs Node.js, which a plain `python app.py` does not start.
    return gr.mount_gradio_app(app, demo, path="/", max_file_size=MAX_UPLOAD_BYTES, ssr_mode=False,
                                js=HOTKEYS_JS)
