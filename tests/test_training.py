"""The training pipeline end to end on a tiny subset of the real photos: it must run, ship and resume."""
import json

import numpy as np

from glasses import Predictor
from tests.conftest import DATA, needs_data
from training import train
from training.sources import build_manifest, split_for


def test_splits_are_stable_and_never_divide_a_person():
    assert split_for("olivetti/7") == split_for("olivetti/7")
    splits = {split_for(f"x/{i}") for i in range(200)}
    assert splits == {"train", "val", "test"}


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


@needs_data
def test_tiny_training_run_ships_a_usable_model_and_resumes(tmp_path):
    args = ["--data", str(DATA), "--sources", "olivetti", "--limit", "8", "--epochs", "1", "--workers", "1",
            "--batch-size", "8", "--cache-dir", str(tmp_path / "cache"), "--run-dir", str(tmp_path / "run"),
            "--out", str(tmp_path / "weights")]
    assert train.main(args) == 0
    card = json.loads((tmp_path / "weights" / "model_card.json").read_text())
    assert len(card["history"]) == 1
    assert set(card["test_metrics"]) == {"all", "olivetti"}
    assert 0.0 <= card["threshold"] <= 1.0
    assert (tmp_path / "weights" / "model_card.md").read_text().startswith("# glasses model card")

    predictor = Predictor(tmp_path / "weights" / "glasses.pt")
    assert predictor.threshold == card["threshold"]
    probs = predictor.classify([])
    assert probs.shape == (0,)

    resumed = args[:args.index("--epochs")] + ["--epochs", "2"] + args[args.index("--epochs") + 2:] + ["--resume"]
    assert train.main(resumed) == 0
    card = json.loads((tmp_path / "weights" / "model_card.json").read_text())
    assert [h["epoch"] for h in card["history"]] == [0, 1]
    assert np.isfinite(card["history"][1]["loss"])
