"""The training pipeline end to end on a tiny subset of the real photos: it must run, ship and resume."""
import json

import numpy as np
import pytest
import torch

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

