"""The ASGI app `python app.py` serves: REST routes under /api, the Gradio UI (and Gradio's own API) at /."""
from __future__ import annotations

import gradio as gr
from fastapi import FastAPI

import glasses

from webapp.connections import LogClientDisconnects
from webapp.context import AppContext
from webapp.limits import MAX_UPLOAD_BYTES
from webapp.page_assets import PAGE_CSS
from webapp.relabel_tab import HOTKEYS_JS
from webapp.rest import rest_router
from webapp.ui import build_ui

# Visitors beyond this many waiting are told the queue is full; below it, everyone is served in turn.
MAX_QUEUE = 200


def create_app(context: AppContext) -> FastAPI:
    # The OpenAPI document of the REST routes (their answers: webapp/rest_models.py) and its Swagger page, under
    # /api beside the routes; Gradio's own API has its page at /?view=api.
    app = FastAPI(title="glasses", version=glasses.__version__, openapi_url="/api/openapi.json",
                  docs_url="/api/docs", redoc_url=None)
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
                                js=HOTKEYS_JS, css=PAGE_CSS)
