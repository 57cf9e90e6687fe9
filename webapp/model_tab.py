"""Model tab: the model card that training wrote beside the weights, with its metrics and plots.

The card's markdown refers to its plots by relative paths that a browser cannot reach, so the plots listed
in the card's JSON (key "plots", when there is one) are shown below it instead, each at the column's full
width in its own proportions, so that wide curves (1100x400) stay readable.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
from PIL import Image

from webapp.context import AppContext

_IMAGE_LINK = re.compile(r"^!\[[^\]]*\]\([^)]*\)\s*$", re.MULTILINE)


def build_model_tab(context: AppContext) -> None:
    folder = context.predictor.weights.parent
    card_md, card_json = folder / "model_card.md", folder / "model_card.json"
    if not card_md.is_file():
        gr.Markdown(f"No model card beside `{context.predictor.weights.name}` (looked for `{card_md.name}`).")
        return
    gr.Markdown(_IMAGE_LINK.sub("", card_md.read_text()), elem_id="model-card")
    for plot, caption in _plots(folder, card_json):
        gr.Image(plot, label=caption, type="pil", format="png", interactive=False, buttons=["download", "fullscreen"],
                 elem_classes="model-plot")


def _plots(folder: Path, card_json: Path) -> list[tuple[Image.Image, str]]:
    """Each plot the card lists that exists, with its name as caption; none when the card lists none."""
    card = json.loads(card_json.read_text()) if card_json.is_file() else {}
    paths = [folder / plot for plot in card.get("plots", [])]
    return [(Image.open(path), path.stem.replace("_", " ")) for path in paths if path.is_file()]
