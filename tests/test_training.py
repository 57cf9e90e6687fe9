"""The training pipeline end to end on a tiny subset of the real photos: it must run, ship and resume."""
import json
import os

import numpy as np
import pytest
import torch

from glasses import Predictor
from training.lite_net import LiteNet
from glasses.mirror import EVERY_FACE
from training.glasses_net import GlassesNet
from training.model_file import load_model
from training.robustness import CORRUPTIONS
from tests.conftest import DATA, REPO, needs_data
from training import train
from training.crops import Crops
from training.data import Prepared, TrainingSetupError, prepare
from training.sources import build_manifest, split_for
from training.train import WIDTHS


def test_splits_are_stable_and_never_divide_a_person():
    assert split_for("olivetti/7") == split_for("olivetti/7")
    splits = {split_for(f"x/{i}") for i in range(200)}
    assert splits == {"train", "val", "test"}


def test_small_sources_are_repeated_up_to_their_share_and_nothing_else_changes():
    big, small = {"source": "big", "label": 0, "split": "train"}, {"source": "small", "label": 1, "split": "train"}
    rows = [big] * 95 + [small] * 2 + [dict(small, split="test")]
    data = Prepared(rows, Crops(np.zeros((98, 2, 2, 3), np.uint8), np.zeros(98), np.array(["ok"] * 98)), 2)
    chosen = data.oversampled(data.mask("train"), 0.05)
    sources = data.column("source")[chosen].tolist()
    assert sources.count("big") == 95 and sources.count("small") == 6  # 2 rows x 3 reach 5% of 97
    assert 97 not in chosen  # the test row stays out
    assert np.array_equal(data.oversampled(data.mask("train"), 0.0), np.arange(97))


def test_a_given_manifest_is_trained_whole_and_sources_filter_only_when_named(tmp_path):
    """A team's own photos in a corrected manifest are trained on: --sources is no silent filter."""
    from tests.relabel_fixtures import data_folder, manifest_rows, write_csv
    data = data_folder(tmp_path, 4)
    sources = ["olivetti", "team_photos", "team_photos", "cmu_faces"]
    manifest = write_csv(tmp_path / "m.csv", manifest_rows([0, 1, 0, 1], sources=sources))
    args = train.parse_args(["--manifest", str(manifest)])
    assert args.sources is None

    def rows(chosen):
        return [row["source"] for row in prepare(data, manifest, chosen, None, 32, 1, tmp_path / "cache").rows]
    assert rows(args.sources) == sources
    assert rows(["team_photos"]) == ["team_photos", "team_photos"]
    with pytest.raises(TrainingSetupError, match=f"--sources yalefaces: no row of {manifest} has that source"):
        rows(["yalefaces", "olivetti"])


def test_a_manifest_with_bad_rows_is_refused_whole_naming_them(tmp_path):
    from tests.relabel_fixtures import data_folder, manifest_rows, write_csv
    data = data_folder(tmp_path, 2)
    manifest = write_csv(tmp_path / "m.csv", manifest_rows([0, 1]))
    manifest.write_text(manifest.read_text().replace(",1,", ",x,").replace("img00", "gone"))
    with pytest.raises(TrainingSetupError, match=f"(?s)cannot train on {manifest}: .*line 2: imgs/gone.png: "
                                                 f"file not found.*line 3: imgs/img01.png: label 'x'"):
        prepare(data, manifest, None, None, 32, 1, tmp_path / "cache")
    with pytest.raises(TrainingSetupError, match="--sources team_photos: no importer of that name"):
        prepare(data, None, ["team_photos"], None, 32, 1, tmp_path / "cache")
    with pytest.raises(SystemExit, match="--sources team_photos: no importer of that name"):   # the command exits
        train.main(["--data", str(data), "--sources", "team_photos", "--run-dir", str(tmp_path / "run"),
                    "--out", str(tmp_path / "w")])


@needs_data
def test_importers_read_every_labelled_photo():
    rows = build_manifest(DATA)
    by_source = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    assert len(by_source["celeba_hq"]) == 14200
    assert sum(r["label"] for r in by_source["celeba_hq"]) == 1200
    assert len(by_source["olivetti"]) == 400 and sum(r["label"] for r in by_source["olivetti"]) == 119
    assert len(by_source["cmu_faces"]) == 313 and sum(r["label"] for r in by_source["cmu_faces"]) == 156
    assert len(by_source["yalefaces"]) == 30 and sum(r["label"] for r in by_source["yalefaces"]) == 15
    for source_rows in by_source.values():
        person_splits = {}
        for row in source_rows:
            person_splits.setdefault(row["group"], set()).add(row["split"])
        assert all(len(s) == 1 for s in person_splits.values())


@pytest.mark.slow
@needs_data
def test_tiny_training_run_resumes_after_an_interruption_and_ships_a_usable_model(tmp_path, monkeypatch):
    args = ["--data", str(DATA), "--sources", "olivetti", "--limit", "8", "--epochs", "2", "--workers", "1",
            "--batch-size", "8", "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "run"),
            "--out", str(tmp_path / "weights")]
    real_save, saves = torch.save, []

    def save_then_crash_in_second_epoch(obj, path, *rest, **kwargs):
        saves.append(path)
        if len(saves) == 2:
            raise KeyboardInterrupt  # the machine goes away while epoch 1 is being checkpointed
        return real_save(obj, path, *rest, **kwargs)

    monkeypatch.setattr(torch, "save", save_then_crash_in_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        train.main(args)
    monkeypatch.undo()
    assert not (tmp_path / "weights" / "glasses.pt").exists()

    with pytest.raises(SystemExit, match="same --epochs"):
        train.main(args[:args.index("--epochs")] + ["--epochs", "3"] + args[args.index("--epochs") + 2:] +
                   ["--resume"])
    assert train.main(args + ["--resume"]) == 0
    card = json.loads((tmp_path / "weights" / "model_card.json").read_text())
    assert [h["epoch"] for h in card["history"]] == [0, 1]
    assert all(np.isfinite(h["loss"]) for h in card["history"])
    assert set(card["test_metrics"]) == {"all", "olivetti"}
    assert (tmp_path / "weights" / "model_card.md").read_text().startswith("# glasses model card")

    predictor = Predictor(tmp_path / "weights" / "glasses.pt")
    assert predictor.threshold == card["threshold"]
    assert predictor.classify([]).shape == (0,)
    # the test split under each corruption, and where the labels came from (calibration: test_calibration.py;
    # this smoke model's validation logits are too flat to fit one)
    assert 0 <= card["test_metrics"]["all"]["ece"] <= 1
    assert set(card["robustness"]) == {"clean", *CORRUPTIONS}
    assert card["robustness"]["clean"]["n"] == card["test_metrics"]["all"]["n"]
    assert card["provenance"]["manifest"]["labels"].startswith("raw")
    assert len(card["provenance"]["code"]["commit"]) == 40
    markdown = (tmp_path / "weights" / "model_card.md").read_text()
    assert "## Robustness" in markdown and "## Labels and provenance" in markdown



@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Arguments every tiny run shares: a dozen Olivetti and CMU faces, one epoch, a crop cache of their own."""
    cache = tmp_path_factory.mktemp("crops")
    return ["--data", str(DATA), "--sources", "olivetti", "cmu_faces", "--limit", "6", "--epochs", "1",
            "--workers", "1", "--batch-size", "8", "--cache-dir", str(cache)]


@pytest.mark.slow
@needs_data
def test_teacher_distils_into_the_student(tiny, tmp_path):
    from training import teacher

    assert teacher.main(tiny + ["--run-dir", str(tmp_path / "teacher")]) == 0
    assert json.loads((tmp_path / "teacher" / "teacher_test.json").read_text())["test_at_0.5"]["all"]["n"] > 0
    out = tmp_path / "weights"
    assert train.main(tiny + ["--run-dir", str(tmp_path / "run"), "--out", str(out),
                              "--teacher", str(tmp_path / "teacher" / "teacher.pt")]) == 0
    card = json.loads((out / "model_card.json").read_text())
    assert card["distillation"]["weight"] == 0.5
    assert card["commands"][0].startswith("python -m training.teacher ")
    assert card["plots"] == ["plots/curves.png", "plots/roc_pr.png", "plots/confusion.png", "plots/reliability.png"]
    for plot in card["plots"]:
        assert (out / plot).read_bytes().startswith(b"\x89PNG")

    lite = tmp_path / "lite"   # the other student: the teacher's first blocks, on smaller crops than the teacher's
    assert train.main(tiny + ["--run-dir", str(tmp_path / "lite_run"), "--out", str(lite), "--architecture", "LiteNet",
                              "--depth", "4", "--size", "80", "--teacher-size", "96",
                              "--teacher", str(tmp_path / "teacher" / "teacher.pt")]) == 0
    model, config = load_model(lite / "glasses.pt")
    assert isinstance(model, LiteNet)
    assert (config["architecture"], config["depth"], config["mirror_average"]) == ("LiteNet", 4, True)
    assert config["input_size"] == 80
    card = json.loads((lite / "model_card.json").read_text())
    # mirror averaging by default, near the threshold: within the band measured on validation
    assert 0 < config["mirror_band"] == card["mirror_band"] < EVERY_FACE
    assert 0 <= card["test_metrics"]["all"]["mirror_pass_share"] <= 1
    assert (card["model"]["architecture"], card["distillation"]["teacher_crop_size"]) == ("LiteNet", 96)
    # the soft targets are the teacher's on its own 96 px crops: the same as the first student's, trained on those
    first, second = (np.load(next((tmp_path / run).glob("teacher_targets_*.npy"))) for run in ("run", "lite_run"))
    np.testing.assert_array_equal(first, second)


@pytest.mark.slow
@needs_data
@pytest.mark.parametrize("architecture", [["--architecture", "GlassesNet"], ["--architecture", "LiteNet", "--depth", "3"]])
def test_out_of_fold_predictions_cover_every_detected_face(tiny, tmp_path, architecture):
    from training import oof
    from glasses.manifest import load_manifest

    out = tmp_path / "oof.csv"
    assert oof.main(tiny + architecture + ["--folds", "3", "--run-dir", str(tmp_path / "run"), "--out", str(out)]) == 0
    rows = load_manifest(out, DATA).rows
    assert {r["source"] for r in rows} == {"olivetti", "cmu_faces"}
    with_pred = [r for r in rows if r["pred_prob"] != ""]
    assert all(0.0 <= float(r["pred_prob"]) <= 1.0 for r in with_pred)
    report = json.loads(out.with_suffix(".json").read_text())
    assert len(with_pred) + report["not_detected"] == len(rows)  # only faces MTCNN cannot find lack one
    assert len(report["folds"]) == 3 and sum(f["rows"] for f in report["folds"]) == len(with_pred)
    fold_model = torch.load(tmp_path / "run" / "fold0" / "last.pt", weights_only=True)["model"]
    expected = GlassesNet(widths=WIDTHS) if architecture[1] == "GlassesNet" else LiteNet(depth=3)
    assert fold_model.keys() == expected.state_dict().keys()


@pytest.mark.slow
@needs_data
def test_torchrun_trains_with_two_processes_on_gloo(tiny, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "weights"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "training.train", *tiny, "--device", "cpu", "--run-dir", str(tmp_path / "run"),
               "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((out / "model_card.json").read_text())
    assert card["processes"] == 2
    assert len(card["history"]) == 1


def test_litenet_starts_from_the_teachers_blocks():
    from training.teacher import Teacher, init_from_lite0

    teacher, student = Teacher(pretrained=False), LiteNet(depth=5)
    init_from_lite0(student, teacher.net)
    lite0 = teacher.net.state_dict()
    for name, value in student.state_dict().items():
        if not name.startswith(("head.", "mean", "std")):
            assert torch.equal(value, lite0[name]), name


def test_the_card_of_a_team_source_says_its_licence_is_unknown(tmp_path):
    from training.model_card import write_model_card

    card = json.loads((REPO / "weights" / "model_card.json").read_text())   # a whole card, one source more
    write_model_card(tmp_path, dict(card, data=dict(card["data"], sources=["olivetti", "team_photos"])))
    licences = json.loads((tmp_path / "model_card.json").read_text())["data"]["licences"]
    assert licences["olivetti"].startswith("AT&T Olivetti faces")
    assert licences["team_photos"].startswith("not known to this project")


@needs_data
def test_evaluate_scores_a_photo_without_a_face_as_a_miss(random_weights, capsys, monkeypatch):
    """Every test photo counts: with a detector that finds nothing, each scores 0 and every glasses photo is
    missed, where leaving them out would report no photo at all."""
    import glasses.predictor
    from training import evaluate

    assert evaluate.main(["--weights", str(random_weights), "--sources", "olivetti", "--threads", "1"]) == 0
    found = json.loads(capsys.readouterr().out)["metrics"]["olivetti"]
    assert found["n"] == 40 and found["no_face"] == 0

    class Blind(glasses.predictor.FaceDetector):
        def detect(self, image, full_size=None):
            return []

    monkeypatch.setattr(glasses.predictor, "FaceDetector", Blind)
    assert evaluate.main(["--weights", str(random_weights), "--sources", "olivetti", "--threads", "1"]) == 0
    blind = json.loads(capsys.readouterr().out)["metrics"]["olivetti"]
    assert (blind["n"], blind["no_face"], blind["recall"]) == (40, 40, 0.0)
    assert blind["positives"] == found["positives"] > 0


@needs_data
def test_evaluate_scores_against_the_labels_of_a_given_manifest(random_weights, capsys, tmp_path):
    """Reviewed labels: the test rows of the manifest given, with its labels, not the importers' raw ones."""
    from training import evaluate
    from glasses.manifest import write_manifest
    from training.sources import build_manifest

    rows = [dict(row, label=0) for row in build_manifest(DATA, ["olivetti"]) if row["split"] == "test"][:10]
    write_manifest(rows, tmp_path / "reviewed.csv")
    assert evaluate.main(["--weights", str(random_weights), "--manifest", str(tmp_path / "reviewed.csv"),
                          "--threads", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["labels"] == str(tmp_path / "reviewed.csv")
    assert (report["metrics"]["all"]["n"], report["metrics"]["all"]["positives"]) == (10, 0)


def test_evaluate_names_a_model_file_it_cannot_use(tmp_path, capsys):
    from training import evaluate

    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk\n")
    with pytest.raises(SystemExit) as caught:
        evaluate.main(["--weights", str(junk)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {junk}: not a glasses model file" in err and "Traceback" not in err


def test_review_counts_per_source_say_what_the_review_changed(tmp_path):
    """Against the raw labels: a flip each way, a dropped no-face row, an unsure row held out, a kept row; a
    decision about an image the raw manifest lacks is not counted."""
    from training.provenance import provenance

    raw = [{"path": f"p{i}.jpg", "label": label, "source": source, "split": "train"}
           for i, (label, source) in enumerate([(0, "celeba_hq"), (1, "celeba_hq"), (0, "celeba_hq"),
                                                (1, "cmu_faces"), (0, "cmu_faces"), (0, "cmu_faces")])]
    trained = [dict(raw[0], label=1), dict(raw[1], label=0), dict(raw[4])]   # p2 dropped; p3, p5 held out
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("path,label,reviewer,decided_at\np0.jpg,1,ana,t\np1.jpg,0,ana,t\np2.jpg,no_face,ana,t\n"
                         "p3.jpg,unsure,ben,t\np4.jpg,0,ben,t\nelsewhere.jpg,1,ben,t\n"
                         "p5.jpg,no_face,ana,t\np5.jpg,1,ben,t\n")              # disputed: held out, not dropped
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\n")
    origin = provenance(manifest, decisions, raw, trained, trained_rows=2)
    reviews = origin["reviews"]
    assert reviews["decisions"] == 8 and reviews["reviewers"] == {"ana": 4, "ben": 4}
    assert reviews["by_source"] == {
        "celeba_hq": {"reviewed": 3, "flipped_to_glasses": 1, "flipped_to_no_glasses": 1, "dropped_no_face": 1},
        "cmu_faces": {"reviewed": 3, "held_out": 2},
        "all": {"reviewed": 6, "flipped_to_glasses": 1, "flipped_to_no_glasses": 1, "dropped_no_face": 1,
                "held_out": 2}}
    assert (origin["manifest"]["rows"], origin["manifest"]["rows_used"]) == (3, 2)
    assert len(origin["manifest"]["sha256"]) == 64


def test_a_bad_decisions_file_is_named_before_anything_is_trained(tmp_path, capsys):
    bad = tmp_path / "decisions.csv"
    bad.write_text("path,label\np0.jpg,1\n")
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label,source,group,split\n")
    for extra, message in ((["--manifest", str(manifest)], r"lacks the column\(s\) reviewer"), ([], "needs --manifest")):
        with pytest.raises(SystemExit, match=message):
            train.main(["--data", str(tmp_path), "--decisions", str(bad), *extra, "--out", str(tmp_path / "w")])
    assert not (tmp_path / "w").exists()


@needs_data
def test_sources_writes_the_raw_manifest_the_importers_read(tmp_path, capsys):
    from training import sources
    from glasses.manifest import load_manifest

    assert sources.main(["--data", str(DATA), "--sources", "olivetti", "yalefaces", "--out", str(tmp_path / "r.csv")]) == 0
    rows = load_manifest(tmp_path / "r.csv", DATA).rows
    assert [(r["path"], r["label"], r["split"]) for r in rows] == \
        [(r["path"], r["label"], r["split"]) for r in sources.build_manifest(DATA, ["olivetti", "yalefaces"])]
    with pytest.raises(SystemExit):
        sources.main(["--data", str(tmp_path / "absent"), "--out", str(tmp_path / "x.csv")])
    assert "not a folder" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()
