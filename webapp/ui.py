"""The Gradio UI: a header and one tab per entry of TABS, each built by a function (AppContext) -> None that
creates its components inside its gr.Tab; a tab whose `shown(context)` is false is left out."""
from __future__ import annotations

from typing import Callable

import gradio as gr

from glasses.labels import GLASSES_LABELS, LabelNames

from webapp.batch_tab import build_batch_tab
from webapp.classify_tab import build_classify_tab
from webapp.context import AppContext
from webapp.model_tab import build_model_tab
from webapp.relabel_tab import build_relabel_tab
from webapp.upload_guard import GuardedBlocks

TabBuilder = Callable[[AppContext], None]


def _always(context: AppContext) -> bool:
    return True


def _reviewing(context: AppContext) -> bool:
    """Relabel is the operator's tool: only an app started with --manifest shows it."""
    return context.desk is not None


TABS: list[tuple[str, TabBuilder, Callable[[AppContext], bool]]] = [
    ("Classify", build_classify_tab, _always),
    ("Batch", build_batch_tab, _always),
    ("Model", build_model_tab, _always),
    ("Relabel", build_relabel_tab, _reviewing),
]

INTRO = ("# glasses\nFor every face in a photo: a box, and whether the person wears glasses, with a confidence. "
         "Photos are classified on this server; uploads are deleted within two hours. Scripts can POST to `/api/classify` "
         "(`curl -F image=@photo.jpg URL/api/classify`).")


def intro(labels: LabelNames) -> str:
    """INTRO, for a model of another attribute saying what it tells instead of glasses."""
    if labels == GLASSES_LABELS:
        return INTRO
    told = f"whether it is {labels.word(labels.positive)} or {labels.word(labels.negative)}"
    return INTRO.replace("whether the person wears glasses", f"{told} (this server's model: `{labels.attribute}`)")


def build_ui(context: AppContext) -> gr.Blocks:
    # delete_cache: every hour, uploads and results older than an hour leave Gradio's cache; all of it at exit.
    # GuardedBlocks: every event's file inputs must be uploads to this app (webapp/upload_guard.py).
    with GuardedBlocks(title="glasses: who wears glasses?", analytics_enabled=False,
                       delete_cache=(3600, 3600)) as demo:
        gr.Markdown(intro(context.predictor.labels))
        with gr.Tabs():
            for title, build, shown in TABS:
                if shown(context):
                    with gr.Tab(title, id=title.lower()):
                        build(context)
    return demo
