"""Models of other binary attributes than glasses: their label names go from training into the model file and
out of every surface; the shipped glasses model's answers keep their names."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from glasses import Predictor
from glasses.labels import GLASSES_LABELS, LabelNameError, LabelNames, names_for
from glasses.manifest import ManifestError, load_manifest, write_manifest
from glasses.prediction import COLUMNS, FaceResult, Prediction, columns
from glasses.weights import ModelFileError, label_names
from tests.conftest import DATA, REPO, needs_data
from training import sources
from training.data import TrainingSetupError, attribute_of_rows, prepare

HAT = LabelNames("hat", "no_hat", attribute="Wearing_Hat")


@pytest.mark.parametrize("attribute, pair", [("Eyeglasses", ("glasses", "no_glasses")),
                                              ("Wearing_Hat", ("hat", "no_hat")), ("Male", ("male", "female")),
                                              ("Smiling", ("smiling", "no_smiling")),
                                              ("No_Beard", ("no_beard", "beard"))])
def test_an_attribute_gets_label_names_a_person_reads(attribute, pair):
    assert names_for(attribute).pair == pair
    assert names_for(attribute).attribute == attribute


@pytest.mark.parametrize("positive, negative", [
    ("Hat", "no_hat"), ("hat", "hat"), ("no_face", "face_ok"), ("hat", "error"), ("hat<script>", "no_hat"),
    ("", "no_hat"), ("hat\n", "no_hat"), ("h" * 33, "no_hat")])
def test_label_names_that_would_break_a_column_or_a_page_are_refused(positive, negative):
    with pytest.raises(LabelNameError):
        LabelNames(positive, negative)


@pytest.mark.parametrize("attribute", ["Wearing Hat", "Hat\n", "a/b", "", "x" * 65, "![x](http://e)"])
def test_an_attribute_that_is_not_a_column_name_is_refused(attribute, tmp_path):
    with pytest.raises(LabelNameError):
        LabelNames("hat", "no_hat", attribute=attribute)
    with pytest.raises(LabelNameError):
        names_for(attribute)


def test_every_celeba_column_gets_names():
    assert names_for("5_o_Clock_Shadow").pair == ("has_5_o_clock_shadow", "no_5_o_clock_shadow")


def test_a_model_files_labels_are_read_and_checked(tmp_path):
    assert label_names({}, tmp_path / "old.onnx") is GLASSES_LABELS   # files that record none: glasses
    assert label_names({"labels": ["hat", "no_hat"], "attribute": "Wearing_Hat"}, tmp_path / "m.onnx") == HAT
    for bad in ({"labels": ["hat"]}, {"labels": "hat"}, {"labels": ["hat", "Hat!"]}, {"labels": ["a", "b"],
                                                                                         "attribute": 3}):
        with pytest.raises(ModelFileError, match="m.onnx"):
            label_names(bad, tmp_path / "m.onnx")


def test_results_of_another_attribute_name_their_probability_and_labels_after_it():
    faces = (FaceResult((1, 2, 30, 40), 0.99, 0.8, "hat", HAT), FaceResult((50, 2, 70, 30), 0.9, 0.1, "no_hat", HAT))
    prediction = Prediction("p.jpg", (100, 80), faces, labels=HAT)
    assert [face["hat_prob"] for face in prediction.to_dict()["faces"]] == [0.8, 0.1]
    assert "glasses_prob" not in json.dumps(prediction.to_dict())
    assert prediction.columns == columns(HAT) and "hat_prob" in prediction.columns
    assert [row["label"] for row in prediction.rows()] == ["hat", "no_hat"]
    assert faces[0].with_threshold(0.9).label == "no_hat" and faces[0].positive
    assert Prediction.failed("x.jpg", "not an image", HAT).rows()[0]["hat_prob"] is None
    # the shipped model's names are what they always were
    assert COLUMNS == columns() and "glasses_prob" in COLUMNS
    assert Prediction("p.jpg", (9, 9), (FaceResult((1, 2, 3, 4), 0.9, 0.7, "glasses"),)).to_dict()["faces"][0] == {
        "face": 0, "box": [1, 2, 3, 4], "face_prob": 0.9, "glasses_prob": 0.7, "label": "glasses"}


def test_a_predictor_answers_in_its_models_label_names(tmp_path):
    from tests.model_files import write_model
    from training.glasses_net import GlassesNet

    model = write_model(tmp_path / "hat.pt", GlassesNet(), labels=HAT)
    predictor = Predictor(model, threshold=0.0)   # every face gets the positive label
    assert predictor.labels == HAT
    prediction = predictor.predict_image(REPO / "webapp" / "examples" / "glasses.jpg")
    assert prediction.faces and {face.label for face in prediction.faces} == {"hat"}
    assert "hat_prob" in prediction.to_dict()["faces"][0] and prediction.rows()[0]["label"] == "hat"
    unread = predictor.predict_item(("notes.jpg", b"not an image"))
    assert unread.error and unread.labels == HAT and "hat_prob" in unread.rows()[0]


@needs_data
def test_sources_without_the_attribute_are_left_out_with_a_message():
    said = []
    rows = sources.build_manifest(DATA, attribute="Male", say=said.append)
    assert {row["source"] for row in rows} == {"celeba_hq"} and {row["attribute"] for row in rows} == {"Male"}
    assert said and all(name in said[0] for name in ("olivetti", "cmu_faces", "yalefaces"))
    glasses_rows = sources.build_manifest(DATA, ("celeba_hq",))
    assert [r["path"] for r in rows] == [r["path"] for r in glasses_rows]          # same photos, same splits
    assert [r["split"] for r in rows] == [r["split"] for r in glasses_rows]
    assert 0.3 < sum(r["label"] for r in rows) / len(rows) < 0.5                 # CelebA-HQ is ~39% male
    assert "attribute" not in glasses_rows[0]                                    # glasses manifests unchanged
    with pytest.raises(sources.UnknownAttributeError, match="Wearing_Hat"):     # the error lists what there is
        sources.build_manifest(DATA, attribute="Hat")
    with pytest.raises(sources.UnknownAttributeError, match="olivetti"):
        sources.build_manifest(DATA, ("olivetti",), attribute="Male")


def test_a_manifest_names_one_attribute_and_training_checks_it(review_set, tmp_path):
    manifest, data, _ = review_set
    rows = load_manifest(manifest, data).rows
    assert load_manifest(manifest, data).attribute is None
    write_manifest([dict(row, attribute="Male") for row in rows], tmp_path / "male.csv")
    male = load_manifest(tmp_path / "male.csv", data)
    assert male.attribute == "Male"
    assert attribute_of_rows(None, male) == "Male" and attribute_of_rows("Male", male) == "Male"
    assert attribute_of_rows(None, None) == "Eyeglasses" and attribute_of_rows("Male", None) == "Male"
    glasses = load_manifest(manifest, data)                 # no attribute column: its labels are glasses'
    assert attribute_of_rows(None, glasses) == "Eyeglasses"
    with pytest.raises(TrainingSetupError, match="of Eyeglasses .it has no attribute column"):
        attribute_of_rows("Wearing_Hat", glasses)
    with pytest.raises(TrainingSetupError, match="of Male"):
        attribute_of_rows("Wearing_Hat", male)
    write_manifest([dict(row, attribute="Male" if i else "Smiling") for i, row in enumerate(rows)],
                   tmp_path / "mixed.csv")
    with pytest.raises(ManifestError, match="2 attributes"):
        load_manifest(tmp_path / "mixed.csv", data)


@needs_data
def test_an_unknown_attribute_is_refused_before_any_detection(tmp_path):
    with pytest.raises(TrainingSetupError, match="--attribute.*Wearing_Hat"):
        prepare(DATA, None, ["celeba_hq"], 2, 32, 1, tmp_path / "cache", attribute="Hats")


@pytest.mark.slow
@needs_data
def test_a_male_smoke_model_trains_through_the_cli_and_predicts_in_its_own_words(tmp_path):
    """A dozen CelebA-HQ photos (--limit 4 per split), one epoch, through `python -m training.train`; then
    `glasses predict --weights` with it: its rows say male / female and carry male_prob."""
    out = tmp_path / "male"
    train = subprocess.run(
        [sys.executable, "-m", "training.train", "--data", str(DATA), "--attribute", "Male", "--limit", "4",
         "--epochs", "1", "--workers", "1", "--batch-size", "8", "--no-robustness", "--device", "cpu",
         "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "run"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert train.returncode == 0, train.stderr[-2000:]
    assert "left out olivetti, cmu_faces, yalefaces" in train.stderr
    card = json.loads((out / "model_card.json").read_text())
    assert card["attribute"] == "Male" and card["labels"] == {"positive": "male", "negative": "female"}
    assert card["data"]["sources"] == ["celeba_hq"]
    assert (out / "model_card.md").read_text().startswith("# male model card")

    photos = sorted((DATA / "celeba_hq" / "images").glob("*.jpg"))[:3]
    predict = subprocess.run(
        [sys.executable, "-m", "glasses", "predict", *map(str, photos), "--weights", str(out / "male.pt"),
         "--format", "csv", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert predict.returncode == 0, predict.stderr
    rows = list(csv.DictReader(predict.stdout.splitlines()))
    assert len(rows) == 3 and "male_prob" in rows[0] and "glasses_prob" not in rows[0]
    assert {row["label"] for row in rows} <= {"male", "female"}
    assert all(0 <= float(row["male_prob"]) <= 1 for row in rows)


def test_the_relabel_tab_reviews_a_manifest_of_another_attribute_in_its_words(tmp_path, predictor, random_weights):
    from relabel.suspects import ModelError
    from tests.relabel_fixtures import data_folder, manifest_rows, write_csv
    from webapp.relabel_tab import GRID, _filters, decide, show_mode
    from webapp.review_desk import ReviewDesk
    from webapp.shared_predictor import SharedPredictor

    data = data_folder(tmp_path, 3)
    rows = [dict(row, attribute="Wearing_Hat") for row in manifest_rows([1, 0, 1], [0.1, 0.2, 0.9])]
    served = SharedPredictor(predictor, random_weights)          # a glasses model: it ranks nothing here
    desk = ReviewDesk.open(write_csv(tmp_path / "hats.csv", rows), data, tmp_path / "r.sqlite", served)
    assert desk.labels.pair == ("hat", "no_hat")
    session = desk.session("ana", _filters(desk.sources, ["0", "1"], ["unreviewed"]))
    single = show_mode(session, "single")
    assert single[5]["value"].startswith("Keep: hat") and single[6]["value"].startswith("Flip to no hat")
    assert "P(hat)" in single[3] and "hat (1)" in single[3] and "glasses" not in single[3]
    view = decide(session, single[1], "flip")
    assert "flipped `img00.png` to no hat" in view[7]
    grid = show_mode(session, GRID)
    assert "flip to hat" in grid[10] and "glasses" not in grid[10]

    # Without pred_prob the served model would rank the labels: it must tell the same attribute.
    unranked = [dict(row, attribute="Wearing_Hat") for row in manifest_rows([1, 0, 1])]
    with pytest.raises(ModelError, match="tells Eyeglasses.*of Wearing_Hat"):
        ReviewDesk.open(write_csv(tmp_path / "bare.csv", unranked), data, tmp_path / "r2.sqlite", served)


def test_the_apps_words_columns_and_rest_model_follow_the_served_model(tmp_path):
    from tests.model_files import write_model
    from training.glasses_net import GlassesNet
    from webapp.batch_tab import classify_batch
    from webapp.face_table import headline, photo_columns
    from webapp.rest_models import prediction_model
    from webapp.shared_predictor import SharedPredictor
    from webapp.ui import INTRO, intro

    weights = write_model(tmp_path / "hat.pt", GlassesNet(), labels=HAT)
    served = SharedPredictor(Predictor(weights, threshold=0.0), weights)    # every face: hat

    class NoProgress:
        def tqdm(self, items, **_):
            return items

    result = classify_batch(served, [str(REPO / "webapp" / "examples" / "glasses.jpg")], NoProgress())
    with open(result.csv_path) as f:
        assert f.readline().strip().split(",") == list(columns(HAT))
    assert "(1 with hat)" in result.summary and result.counts[0][2] == 1
    shown = served.classify(REPO / "webapp" / "examples" / "glasses.jpg", "glasses.jpg")
    assert headline(shown).startswith("hat ") and photo_columns(shown.labels)[1] == "hat_prob"
    schema = prediction_model(HAT).model_json_schema(by_alias=True)
    assert "hat_prob" in schema["$defs"]["FaceModel"]["properties"]
    assert prediction_model(HAT).model_validate(shown.to_dict()).model_dump(by_alias=True) == shown.to_dict()
    assert "hat or no hat" in intro(HAT) and intro(GLASSES_LABELS) == INTRO


@pytest.mark.parametrize(("fmt", "message"), [("jsonl", "was written by a model with other labels"),
                                              ("csv", "with these columns")])
def test_resume_refuses_a_file_another_models_labels_wrote(tmp_path, random_weights, capsys, fmt, message):
    from glasses.cli import main
    from tests.model_files import write_model
    from training.glasses_net import GlassesNet

    photos = [str(REPO / "webapp" / "examples" / name) for name in ("glasses.jpg", "group.jpg")]
    out = tmp_path / f"rows.{fmt}"
    assert main(["predict", photos[0], "--weights", str(random_weights), "--format", fmt, "--output", str(out),
                 "--quiet"]) == 0
    written = out.read_bytes()
    hat = write_model(tmp_path / "hat.pt", GlassesNet(), labels=HAT)
    with pytest.raises(SystemExit) as caught:
        main(["predict", *photos, "--weights", str(hat), "--format", fmt, "--output", str(out), "--quiet",
              "--resume"])
    assert caught.value.code == 2 and message in capsys.readouterr().err
    assert out.read_bytes() == written


def test_the_result_schema_takes_another_attributes_objects_and_refuses_broken_ones():
    import jsonschema

    schema = json.loads((REPO / "docs" / "prediction.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    faces = (FaceResult((1, 2, 30, 40), 0.99, 0.8, "hat", HAT),)
    hat = Prediction("p.jpg", (100, 80), faces, labels=HAT).to_dict()
    assert list(validator.iter_errors(hat)) == []
    for change in (lambda f: f.pop("hat_prob"),                         # no probability
                   lambda f: f.update(glasses_prob=0.5),                # two of them
                   lambda f: f.update(hat_prob=1.5),
                   lambda f: f.update(label="Hat!")):
        broken = json.loads(json.dumps(hat))
        change(broken["faces"][0])
        assert list(validator.iter_errors(broken)), broken


def test_a_manifests_attribute_must_be_a_column_name(review_set, tmp_path):
    manifest, data, _ = review_set
    rows = load_manifest(manifest, data).rows
    write_manifest([dict(row, attribute="Hat](http://evil)") for row in rows], tmp_path / "bad.csv")
    with pytest.raises(ManifestError, match="attribute column"):
        load_manifest(tmp_path / "bad.csv", data)
