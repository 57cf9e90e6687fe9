"""The model in weights/ on real held-out photos: the numbers users get, not those of an untrained stand-in."""
import copy
import json
import random

import numpy as np
import pytest

from glasses import Predictor, load_image
from glasses.crop import crop_face
from glasses.mirror import EVERY_FACE
from glasses.weights import DEFAULT_WEIGHTS
from tests.conftest import DATA, needs_data
from training.sources import build_manifest

CARD = DEFAULT_WEIGHTS.parent / "model_card.json"


@pytest.fixture(scope="module")
def shipped():
    return Predictor()


def test_model_file_is_small_and_its_card_matches_it(shipped):
    card = json.loads(CARD.read_text())
    assert DEFAULT_WEIGHTS.stat().st_size <= 3_000_000
    assert card["model"]["size_bytes"] == DEFAULT_WEIGHTS.stat().st_size
    assert (shipped.threshold, shipped.mirror_band) == (card["threshold"], card["mirror_band"])
    assert (shipped.input_size, shipped.crop_margin) == (card["model"]["input_size"], card["model"]["crop_margin"])


@pytest.fixture(scope="module")
def held_out():
    """30 glasses and 30 no-glasses celeba_hq photos from the test split, which training never saw."""
    test_rows = [r for r in build_manifest(DATA, ("celeba_hq",)) if r["split"] == "test"]
    rng = random.Random(0)
    return [r for label in (0, 1) for r in rng.sample([r for r in test_rows if r["label"] == label], 30)]


@needs_data
def test_shipped_model_is_right_on_held_out_celeba_photos(shipped, held_out):
    correct = 0
    for row in held_out:
        faces = shipped.predict(DATA / row["path"])
        assert faces, f"no face found in {row['path']}"
        correct += (faces[0].label == "glasses") == bool(row["label"])
    assert correct / len(held_out) >= 0.95   # the shipped model gets 59 of these 60


@needs_data
def test_the_mirror_pass_near_the_threshold_gives_the_labels_of_averaging_every_face(shipped, held_out):
    every = copy.copy(shipped)
    every.mirror_band = EVERY_FACE
    crops = [crop_face(load_image(DATA / row["path"]), face.box, shipped.input_size, shipped.crop_margin)
             for row in held_out for face in shipped.predict(DATA / row["path"])]
    near, everywhere = shipped.classify(crops), every.classify(crops)
    np.testing.assert_array_equal(near >= shipped.threshold, everywhere >= shipped.threshold)
    assert np.abs(near - everywhere).max() > 0   # faces far from the threshold did take one pass only


@needs_data
def test_threshold_relabels_without_changing_probabilities(shipped):
    path = sorted((DATA / "celeba_hq" / "images").glob("*.jpg"))[0]
    face = shipped.predict(path)[0]
    assert face.with_threshold(0.0).label == "glasses"
    assert face.with_threshold(1.0).label == ("glasses" if face.glasses_prob >= 1.0 else "no_glasses")
    assert face.with_threshold(0.3).glasses_prob == face.glasses_prob
    assert face.to_dict()["box"] == list(face.box)
