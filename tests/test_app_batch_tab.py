"""The Batch tab's handler: what a visitor reads when a file fails in a way nobody foresaw."""
from __future__ import annotations

import logging

from webapp.batch_tab import classify_batch
from webapp.shared_predictor import UNEXPECTED_ERROR


class NoProgress:
    def tqdm(self, items, **_):
        return items


class BrokenModel:
    def classify(self, source, name):
        raise RuntimeError("cannot open /srv/secret/weights/glasses.pt: 'NoneType' object has no attribute 'get'")


def test_an_unexpected_failure_is_a_row_without_server_paths_and_is_logged(tmp_path, caplog):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"whatever")
    with caplog.at_level(logging.ERROR, logger="webapp.batch_tab"):
        table, csv_path, _ = classify_batch(BrokenModel(), [str(photo)], NoProgress())
    assert [(row[0], row[-1]) for row in table] == [("photo.png", UNEXPECTED_ERROR)]
    assert "/srv/secret" not in open(csv_path).read()
    assert "/srv/secret" in caplog.text   # the operator still learns what happened
