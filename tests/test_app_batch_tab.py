"""The Batch tab's handler: what a visitor reads when a file fails in a way nobody foresaw."""
from __future__ import annotations

import logging
from pathlib import Path

from glasses import Prediction, Predictor
from glasses.labels import GLASSES_LABELS
from webapp.batch_tab import classify_batch
from webapp.shared_predictor import UNEXPECTED_ERROR, SharedPredictor


class NoProgress:
    def tqdm(self, items, **_):
        return items


class BrokenModel(Predictor):
    """A Predictor whose every photo fails in a way nobody foresaw (predict_many's handling is the real one)."""

    def __init__(self):
        self.labels = GLASSES_LABELS

    def predict_image(self, image, name=None, show_side=None):
        raise RuntimeError("cannot open /srv/secret/weights/glasses.pt: 'NoneType' object has no attribute 'get'")


def shared(model: Predictor) -> SharedPredictor:
    return SharedPredictor(model, Path("model.onnx"))


def test_an_unexpected_failure_is_a_row_without_server_paths_and_is_logged(tmp_path, caplog):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"whatever")
    with caplog.at_level(logging.ERROR, logger="webapp.batch_tab"):
        table, csv_path, *_ = classify_batch(shared(BrokenModel()), [str(photo)], NoProgress())
    assert [(row[0], row[-1]) for row in table] == [("photo.png", UNEXPECTED_ERROR)]
    assert "/srv/secret" not in open(csv_path).read()
    assert "/srv/secret" in caplog.text   # the operator still learns what happened


class CountingModel(Predictor):
    """Classifies every photo as faceless, counting its calls."""

    def __init__(self):
        self.calls, self.labels = 0, GLASSES_LABELS

    def predict_image(self, image, name=None, show_side=None):
        self.calls += 1
        return Prediction(name, (8, 6))


def test_files_past_the_time_budget_are_rows_saying_so_not_classified(tmp_path):
    paths = []
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(b"whatever")
        paths.append(str(tmp_path / f"{i}.png"))
    model = CountingModel()
    table, *_ = classify_batch(shared(model), paths, NoProgress(), budget_s=-1)   # over budget from the start
    assert model.calls == 0
    assert [row[-1] for row in table] == ["not classified: the batch ran past its -1 s; drop the files not "
                                          "classified in another batch"] * 3
    model = CountingModel()
    table, *_ = classify_batch(shared(model), paths, NoProgress(), budget_s=60)
    assert model.calls == 3 and [row[-2] for row in table] == ["no_face"] * 3
