"""The Model tab shows whatever model card sits beside the weights: its text, and the plots its JSON lists."""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
from PIL import Image

from webapp.context import AppContext
from webapp.model_tab import build_model_tab


class FakePredictor:
    def __init__(self, weights: Path):
        self.weights = weights


def built(weights: Path) -> list:
    with gr.Blocks() as demo:
        build_model_tab(AppContext(FakePredictor(weights)))
    return list(demo.blocks.values())


def test_card_text_without_its_image_links_and_the_listed_plots(tmp_path):
    (tmp_path / "plots").mkdir()
    Image.new("RGB", (40, 30), "white").save(tmp_path / "plots" / "roc_curve.png")
    (tmp_path / "model_card.md").write_text("# card\n\n| a | b |\n\n![roc_curve](plots/roc_curve.png)\n"
                                            "![gone](plots/gone.png)\n")
    (tmp_path / "model_card.json").write_text(json.dumps({"plots": ["plots/roc_curve.png", "plots/gone.png"]}))
    blocks = built(tmp_path / "glasses.pt")
    [card] = [b for b in blocks if isinstance(b, gr.Markdown)]
    assert "# card" in card.value and "| a | b |" in card.value and "![" not in card.value
    [gallery] = [b for b in blocks if isinstance(b, gr.Gallery)]
    assert [item["caption"] for item in gallery.value] == ["roc curve"]


def test_card_without_plots_has_no_gallery(tmp_path):
    (tmp_path / "model_card.md").write_text("# card\n")
    (tmp_path / "model_card.json").write_text("{}")
    assert not [b for b in built(tmp_path / "glasses.pt") if isinstance(b, gr.Gallery)]


def test_missing_card_is_said(tmp_path):
    [note] = [b for b in built(tmp_path / "glasses.pt") if isinstance(b, gr.Markdown)]
    assert "No model card beside `glasses.pt`" in note.value
