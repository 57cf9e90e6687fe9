"""The Model tab shows whatever model card sits beside the weights: its text, and the plots its JSON lists."""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
from PIL import Image

from webapp.context import AppContext
from webapp.model_tab import build_model_tab
from glasses.labels import GLASSES_LABELS


class FakePredictor:
    def __init__(self, weights: Path):
        self.weights, self.labels = weights, GLASSES_LABELS


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
    [plot] = [b for b in blocks if isinstance(b, gr.Image)]   # each plot its own image, not a gallery tile
    assert plot.label == "roc curve" and plot.height is None and plot.width is None


def test_card_without_plots_has_no_images(tmp_path):
    (tmp_path / "model_card.md").write_text("# card\n")
    (tmp_path / "model_card.json").write_text("{}")
    assert not [b for b in built(tmp_path / "glasses.pt") if isinstance(b, (gr.Image, gr.Gallery))]


def test_the_card_shows_counts_as_tables_not_python_dicts(tmp_path):
    """Rendered from the shipped card's facts: detection counts are a table, the environment is words."""
    from tests.conftest import REPO
    from training.model_card import write_model_card

    card = json.loads((REPO / "weights" / "model_card.json").read_text())
    card["data"]["face_detection"] = {"celeba_hq": {"ok": 1400, "no_face": 2}, "yalefaces": {"ok": 30}}
    write_model_card(tmp_path, card)
    text = (tmp_path / "model_card.md").read_text()
    assert "{'" not in text and "'ok'" not in text
    assert "| celeba_hq | 1,400 | 2 |" in text and "| yalefaces | 30 | 0 |" in text
    assert "python 3.11" in text   # the environment's versions, not a dict


def test_missing_card_is_said(tmp_path):
    [note] = [b for b in built(tmp_path / "glasses.pt") if isinstance(b, gr.Markdown)]
    assert "No model card beside `glasses.pt`" in note.value


def test_a_card_not_in_the_form_training_writes_still_builds_the_tab(tmp_path):
    """Each malformed section is left out with a note; the card's text and the good sections still show."""
    Image.new("RGB", (40, 30), "white").save(tmp_path.parent / "outside.png")
    (tmp_path / "model_card.md").write_bytes(b"# card \xff\n")   # not UTF-8
    (tmp_path / "model_card.json").write_text(json.dumps({
        "test_metrics": ["not", "a", "mapping"],
        "provenance": {"reviews": {"by_source": {"celeba_hq": "many"}}},
        "model": {"file": "glasses.pt", "architecture": "LiteNet", "parameters": 1000, "input_size": 96},
        "plots": ["../outside.png", 7, "", "a\u0000.png"]}))
    blocks = built(tmp_path / "glasses.pt")
    notes = [b.value for b in blocks if isinstance(b, gr.Markdown) and "form training writes" in b.value]
    assert len(notes) == 2 and notes[0].startswith("*Test metrics") and notes[1].startswith("*Labels reviewed")
    [table] = [b for b in blocks if isinstance(b, gr.Dataframe)]
    assert table.label == "Provenance"
    assert not [b for b in blocks if isinstance(b, gr.Image)]          # a plot outside the card's folder is not shown
    assert any(isinstance(b, gr.Markdown) and b.value.startswith("# card") for b in blocks)


def test_plots_that_are_not_a_list_show_none(tmp_path):
    (tmp_path / "model_card.md").write_text("# card\n")
    (tmp_path / "model_card.json").write_text(json.dumps({"plots": "plots/roc_curve.png"}))
    assert not [b for b in built(tmp_path / "glasses.pt") if isinstance(b, gr.Image)]
