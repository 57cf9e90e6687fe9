"""The Gradio UI: a header and one tab per entry of TABS, each built by a function (AppContext) -> None that
creates its components inside its gr.Tab."""
from __future__ import annotations

from typing import Callable

import gradio as gr

from webapp.batch_tab import build_batch_tab
from webapp.classify_tab import build_classify_tab
from webapp.context import AppContext
from webapp.model_tab import build_model_tab
from webapp.relabel_tab import build_relabel_tab

TabBuilder = Callable[[AppContext], None]

TABS: list[tuple[str, TabBuilder]] = [
    ("Classify", build_classify_tab),
    ("Batch", build_batch_tab),
    ("Model", build_model_tab),
    ("Relabel", build_relabel_tab),
]

INTRO = ("# glasses\nFor every face in a photo: a box, and whether the person wears glasses, with a confidence. "
         "Photos are classified on this server; uploads are deleted within two hours. Scripts can POST to `/api/classify` "
         "(`curl -F image=@photo.jpg URL/api/classify`).")


def build_ui(context: AppContext) -> gr.Blocks:
    # delete_cache: every hour, uploads and results older than an hour leave Gradio's cache.
    with gr.Blocks(title="glasses: who wears glasses?", analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            for title, build in TABS:
                with gr.Tab(title, id=title.lower()):
                    build(context)
    return demo
