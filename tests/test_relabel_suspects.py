"""relabel.suspects: rows whose label the probabilities contradict come first; it says where they came from."""
from __future__ import annotations

import pytest

from glasses.labels import GLASSES_LABELS

from glasses.images import ImageError
from glasses.manifest import load_manifest
from glasses.prediction import FaceResult
from relabel.suspects import ModelError, label_quality, rank_manifest
from tests.relabel_fixtures import data_folder, manifest_rows, write_csv


@pytest.fixture
def data(tmp_path):
    return data_folder(tmp_path, 8)


def test_contradicted_labels_rank_first_and_unscored_rows_last(tmp_path, data):
    labels = [0, 0, 1, 1, 0, 1, 0, 1]
    pred_prob = [0.05, 0.97, 0.9, 0.1, None, 0.95, 0.6, 0.8]   # rows 1 and 3 contradict their label
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows(labels, pred_prob)), data)
    ranking = rank_manifest(manifest)
    order = [s.path for s in ranking.suspects]
    assert set(order[:2]) == {"imgs/img01.png", "imgs/img03.png"}
    assert order[2] == "imgs/img06.png"                           # 0.6 for a 0: the next doubt
    assert order[-1] == "imgs/img04.png" and ranking.suspects[-1].score is None
    assert [s.rank for s in ranking.suspects] == list(range(1, 9))
    scores = [s.score for s in ranking.suspects[:-1]]
    assert scores == sorted(scores) and all(0 <= s <= 1 for s in scores)
    assert ranking.probabilities == "out-of-fold pred_prob column of m.csv"
    first = ranking.suspects[0]
    assert (first.label, first.source, first.box) == (labels[int(first.path[8:10])], "olivetti", None)


def test_ties_keep_manifest_order(tmp_path, data):
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([1] * 4, [0.3] * 4)), data)
    assert [s.path for s in rank_manifest(manifest).suspects] == [row["path"] for row in manifest.rows]


def test_one_class_only_still_ranks(tmp_path, data):
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([0, 0, 0], [0.1, 0.9, 0.4])), data)
    assert [s.path for s in rank_manifest(manifest).suspects] == ["imgs/img01.png", "imgs/img02.png",
                                                                  "imgs/img00.png"]


def test_label_quality_is_the_probability_of_the_given_label():
    """Self-confidence: P(glasses) for a row labelled 1, 1 - P(glasses) for a 0; probabilities clipped to [0, 1]."""
    scores = label_quality([1, 0, 1, 0, 1, 0], [0.1, 0.1, 0.97, 0.97, 1.2, -0.5])
    assert scores.tolist() == [0.1, 1 - 0.1, 0.97, 1 - 0.97, 1.0, 1.0]


def image_number(data: bytes) -> int:
    """Which of data_folder's images these bytes are: image i is grey level i."""
    from glasses import load_image

    return load_image(data).getpixel((0, 0))[0]


class FakePredictor:
    """Stands in for glasses.Predictor: a fixed answer per image; img03 cannot be read, img02 has no face. It is
    handed each image's bytes, read from inside the data folder."""

    labels = GLASSES_LABELS

    def __init__(self, probs):
        self.probs, self.calls = probs, []

    def predict(self, data):
        number = image_number(data)
        self.calls.append(f"img{number:02d}.png")
        if number == 3:
            raise ImageError("img03.png", "not an image")
        p = self.probs[number]
        return [] if p is None else [FaceResult((1, 2, 3, 4), 0.99, p, "glasses" if p >= 0.5 else "no_glasses"),
                                     FaceResult((0, 0, 1, 1), 0.95, 1 - p, "glasses")]


def test_without_pred_prob_the_model_runs_and_the_ranking_says_so(tmp_path, data):
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([1, 1, 0, 0])), data)
    predictor = FakePredictor([0.9, 0.2, None, 0.5])
    ranking = rank_manifest(manifest, weights=tmp_path / "mine.pt", predictor=predictor)
    assert predictor.calls == ["img00.png", "img01.png", "img02.png", "img03.png"]
    assert ranking.probabilities.startswith("current model mine.pt")
    first = ranking.suspects[0]
    assert (first.path, first.pred_prob, first.box) == ("imgs/img01.png", 0.2, (1, 2, 3, 4))  # the largest face
    assert [(s.pred_prob, s.box) for s in ranking.suspects[2:]] == [(None, None), (None, None)]


def test_the_shipped_model_is_the_default(tmp_path, data, random_weights):
    """With no predictor given, one is loaded from `weights` and run (random weights: only the plumbing)."""
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([1, 0])), data)
    ranking = rank_manifest(manifest, weights=random_weights)
    assert ranking.probabilities.startswith(f"current model {random_weights.name}")
    assert [s.pred_prob for s in ranking.suspects] == [None, None]   # 8x8 grey squares hold no face


def test_a_model_file_that_is_missing_or_junk_is_named(tmp_path, data):
    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([1, 0])), data)
    with pytest.raises(ModelError, match=f"^{tmp_path / 'gone.pt'}: model file not found"):
        rank_manifest(manifest, weights=tmp_path / "gone.pt")
    (tmp_path / "junk.onnx").write_bytes(b"junk\n")
    with pytest.raises(ModelError, match=f"^{tmp_path / 'junk.onnx'}: not a glasses model file"):
        rank_manifest(manifest, weights=tmp_path / "junk.onnx")


def test_ranking_by_the_model_reads_no_file_from_outside_the_data_folder(tmp_path, data):
    """An image swapped for a symlink out of the data folder after the manifest was checked is not scored."""
    import os

    manifest = load_manifest(write_csv(tmp_path / "m.csv", manifest_rows([1, 1])), data)
    outside = tmp_path / "outside.png"
    (data / "imgs" / "img01.png").rename(outside)
    os.symlink(outside, data / "imgs" / "img01.png")
    predictor = FakePredictor([0.9, 0.2])
    ranking = rank_manifest(manifest, weights=tmp_path / "mine.pt", predictor=predictor)
    assert predictor.calls == ["img00.png"]
    assert {s.path: s.pred_prob for s in ranking.suspects} == {"imgs/img00.png": 0.9, "imgs/img01.png": None}
