"""The corruptions of the robustness table: each changes the photo as its name says, repeatably, and the table
scores every test photo under each."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.robustness import CORRUPTIONS, FAR_FACE, format_table, low_resolution, robustness_table
from tests.conftest import DATA, needs_data


def photo() -> Image.Image:
    rng = np.random.default_rng(1)
    base = np.linspace(40, 220, 120)[None, :, None] * np.ones((90, 1, 3))
    return Image.fromarray(np.clip(base + rng.normal(0, 20, (90, 120, 3)), 0, 255).astype(np.uint8))


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_each_corruption_keeps_the_size_and_changes_the_photo_repeatably(name):
    image = photo()
    first = CORRUPTIONS[name](image, np.random.default_rng(0), 80)
    again = CORRUPTIONS[name](image, np.random.default_rng(0), 80)
    assert first.size == image.size and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert np.abs(np.asarray(first, float) - np.asarray(image, float)).mean() > 1


def test_low_resolution_leaves_the_face_with_far_face_pixels_of_detail():
    image = photo()
    rng = np.random.default_rng(0)
    for small_face in (0, FAR_FACE / 2, FAR_FACE):   # none found, or already at the smallest the detector sees
        assert np.array_equal(np.asarray(low_resolution(image, rng, small_face)), np.asarray(image))
    reduced = low_resolution(image, rng, 3 * FAR_FACE)
    # Detail a third of the photo's resolution holds: enlarged from 40 x 30 pixels, as that copy alone gives.
    again = image.resize((40, 30), Image.BILINEAR).resize(image.size, Image.BICUBIC)
    assert np.array_equal(np.asarray(reduced), np.asarray(again))


def test_the_named_changes():
    image = photo()
    grey = np.asarray(CORRUPTIONS["grey"](image, np.random.default_rng(0)))
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    dark = np.asarray(CORRUPTIONS["low light"](image, np.random.default_rng(0)), float)
    assert dark.mean() == pytest.approx(np.asarray(image, float).mean() / 3, rel=0.1)
    blurred = np.asarray(CORRUPTIONS["blur"](image, np.random.default_rng(0)), float)
    assert np.abs(np.diff(blurred, axis=1)).mean() < np.abs(np.diff(np.asarray(image, float), axis=1)).mean()


@needs_data
def test_the_table_scores_every_test_photo_under_each_condition(predictor):
    rows = [{"path": f"olivetti/images/{i:03d}.png", "label": i % 2, "split": "test"} for i in range(4)]
    table = robustness_table(predictor, rows, DATA)
    assert list(table) == ["clean", *CORRUPTIONS]
    assert all(m["n"] == 4 and m["positives"] == 2 and 0 <= m["ece"] <= 1 for m in table.values())
    assert format_table(table).count("\n") == len(table) + 1


def test_a_table_recorded_in_a_model_card_replaces_the_one_there(tmp_path):
    import json
    import shutil

    from tests.conftest import REPO
    from training.model_card import add_robustness

    shutil.copy(REPO / "weights" / "model_card.json", tmp_path / "model_card.json")
    table = {name: {"f1": 0.5, "recall": 0.5, "precision": 0.5, "roc_auc": 0.5, "ece": 0.1, "no_face": 3}
             for name in ["clean", *CORRUPTIONS]}
    command = "python -m training.robustness --manifest m.csv --card here"
    add_robustness(tmp_path, table, command)
    card = json.loads((tmp_path / "model_card.json").read_text())
    assert card["robustness"] == table and card["commands"].count(command) == 1
    assert sum(c.startswith("python -m training.robustness") for c in card["commands"]) == 1
    assert format_table(table) in (tmp_path / "model_card.md").read_text()
