"""Model tab: the model card that training wrote beside the weights: its counts as tables, its plots, and the
card itself.

First the card JSON's test metrics per source, reviewed labels per source and provenance (model file, manifest
and decisions files with their sha256, reviewers, commit) as tables (webapp/model_card_tables.py). Then the
plots the JSON lists (key "plots"), each at the column's full width in its own proportions, so that wide
curves (1100x400) stay readable; the card's markdown refers to them by relative paths that a browser cannot
reach, so its image links are left out. Then the card's full text.

A card is a file anyone can edit (or train their own model and write): a section that is not in the form
training writes, a plot outside the card's folder, or text that is not UTF-8 leaves that part out with a note,
and the rest of the tab and the app still build.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr

from webapp import model_card_tables
from webapp.context import AppContext

_IMAGE_LINK = re.compile(r"^!\[[^\]]*\]\([^)]*\)\s*$", re.MULTILINE)


def build_model_tab(context: AppContext) -> None:
    folder = context.predictor.weights.parent
    card_md, card_json = folder / "model_card.md", folder / "model_card.json"
    if not card_md.is_file():
        gr.Markdown(f"No model card beside `{context.predictor.weights.name}` (looked for `{card_md.name}`).")
        return
    card = _card(card_json)
    for label, table, elem_id in (
            (f"Test metrics per source ({context.predictor.labels.positive} class)", model_card_tables.test_metrics,
             "model-test-metrics"),
            ("Labels reviewed by eye, per source", model_card_tables.reviews, "model-reviews"),
            ("Provenance", model_card_tables.provenance, "model-provenance")):
        try:
            headers, rows = table(card)
        except (AttributeError, TypeError, ValueError, KeyError):   # a section not in the form training writes
            gr.Markdown(f"*{label}: `{card_json.name}` does not hold this in the form training writes; the card's "
                        f"text below may.*", elem_classes="model-card-note")
            continue
        if rows:
            gr.Dataframe(rows, headers=headers, label=label, interactive=False, wrap=True,
                         elem_id=elem_id)
    for plot, caption in _plots(folder, card):   # a file, so that its download keeps its name (curves.png)
        gr.Image(str(plot), label=caption, type="filepath", interactive=False, buttons=["download", "fullscreen"],
                 elem_classes="model-plot")
    gr.Markdown(_IMAGE_LINK.sub("", card_md.read_text(encoding="utf-8", errors="replace")), elem_id="model-card")


def _card(card_json: Path) -> dict:
    """The card's JSON; {} where there is none, or it cannot be read as a JSON object (the tab shows the text)."""
    try:
        card = json.loads(card_json.read_text())
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def _plots(folder: Path, card: dict) -> list[tuple[Path, str]]:
    """Each plot the card lists that exists in the card's folder, with its name as caption; none when the card
    lists none."""
    plots = card.get("plots")
    if not isinstance(plots, list):
        return []
    inside, shown = folder.resolve(), []
    for plot in plots:
        try:
            path = (folder / plot).resolve()
            if path.is_relative_to(inside) and path.is_file():
                shown.append((path, path.stem.replace("_", " ")))
        except (TypeError, ValueError, OSError):   # not a name, a NUL in it, a path the system refuses
            continue
    return shown
