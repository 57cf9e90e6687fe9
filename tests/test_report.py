"""Predictions as every format writes them: file names and error reasons as one line of plain text, the same in
the JSON object and its rows; json, jsonl, csv and table written from one Prediction agree."""
from __future__ import annotations

import csv
import io
import json
import os

import pytest

from glasses.prediction import COLUMNS, SCHEMA, FaceResult, Prediction
from glasses.report import FORMATS, PredictionWriter


def face_rows(name: str, faces: list) -> list[dict]:
    return Prediction(name, (10, 10), tuple(faces)).rows()


def error_row(name: str, reason: str) -> dict:
    [row] = Prediction.failed(name, reason).rows()
    return row


@pytest.mark.parametrize("name, written", [
    ("evil\u202egpj.exe", "evil\\u202egpj.exe"),             # right-to-left override: would show "exe.jpg"
    ("zero\u200bwidth.jpg", "zero\\u200bwidth.jpg"),
    ("a\x1b[2Jb.png", "a\\x1b[2Jb.png"),
    ("tab\there\rcr\x7fdel\x85nel.png", "tab\\x09here\\x0dcr\\x7fdel\\x85nel.png"),
    ("line\u2028para\u2029.png", "line\\u2028para\\u2029.png"),
    ("tag\U000e0041.png", "tag\\U000e0041.png"),              # an invisible tag character
    (os.fsdecode(b"bad\xff\x1b.png"), "bad\\xff\\x1b.png"),      # not UTF-8, and a control byte
])
def test_hidden_and_control_characters_in_names_are_escaped(name, written):
    assert face_rows(name, [])[0]["name"] == written
    assert error_row(name, "not an image")["name"] == written
    assert Prediction.failed(name, "not an image").to_dict()["name"] == written


@pytest.mark.parametrize("name", ["café.jpg", "照片.png", "😀 smile.jpg", "👩\u200d👩\u200d👧 family.jpg",
                                  "ن\u200cام.jpg", "plain name (1).png", "no\u00a0break.png"])
def test_printable_text_is_kept_as_it_is(name):
    assert face_rows(name, [])[0]["name"] == name


def test_error_reasons_are_escaped_too():
    row = error_row("x.png", "unexpected error: ValueError: first\nsecond\x1b[0m")
    assert row["error"] == "unexpected error: ValueError: first\\x0asecond\\x1b[0m"


TWO_FACES = Prediction("group.jpg", (640, 480), (FaceResult((10, 20, 110, 140), 0.99, 0.97, "glasses"),
                                                 FaceResult((300, 40, 360, 110), 0.9, 0.02, "no_glasses")))


def test_the_json_object_carries_the_schema_size_and_each_face_in_order():
    assert TWO_FACES.to_dict() == {
        "schema": SCHEMA, "name": "group.jpg", "width": 640, "height": 480, "error": None,
        "faces": [{"face": 0, "box": [10, 20, 110, 140], "face_prob": 0.99, "glasses_prob": 0.97, "label": "glasses"},
                  {"face": 1, "box": [300, 40, 360, 110], "face_prob": 0.9, "glasses_prob": 0.02,
                   "label": "no_glasses"}]}
    failed = Prediction.failed("x.png", "not an image").to_dict()
    assert (failed["width"], failed["height"], failed["faces"], failed["error"]) == (None, None, [], "not an image")


def test_rows_flatten_the_same_fields():
    rows = TWO_FACES.rows()
    assert [list(row) for row in rows] == [list(COLUMNS)] * 2
    for row, face in zip(rows, TWO_FACES.to_dict()["faces"]):
        assert (row["name"], row["width"], row["height"]) == ("group.jpg", 640, 480)
        assert [row[k] for k in ("x1", "y1", "x2", "y2")] == face["box"]
        assert all(row[k] == face[k] for k in ("face", "face_prob", "glasses_prob", "label"))
    [no_face] = Prediction("empty.jpg", (5, 5)).rows()
    assert (no_face["label"], no_face["face"], no_face["width"]) == ("no_face", None, 5)
    assert error_row("x.png", "empty file")["label"] == "error"


def written(fmt: str, predictions: list[Prediction]) -> str:
    out = io.StringIO()
    writer = PredictionWriter(fmt, out)
    for prediction in predictions:
        writer.write(prediction)
    writer.close()
    return out.getvalue()


def test_every_format_writes_the_same_predictions():
    predictions = [TWO_FACES, Prediction("empty.jpg", (5, 5)), Prediction.failed("bad.png", "empty file")]
    objects = [p.to_dict() for p in predictions]
    assert json.loads(written("json", predictions)) == objects
    assert [json.loads(line) for line in written("jsonl", predictions).splitlines()] == objects
    rows = [row for p in predictions for row in p.rows()]
    assert list(csv.DictReader(io.StringIO(written("csv", predictions)))) == [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    table = written("table", predictions).splitlines()
    assert table[0].split() == list(COLUMNS) and len(table) == 1 + len(rows)
    assert set(FORMATS) == {"json", "jsonl", "csv", "table"}


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        PredictionWriter("xml", io.StringIO())
