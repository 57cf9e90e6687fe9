"""What a visitor reads and downloads, built without a server: the Classify headline and table, the overlay's
file name, the Batch counts, gallery and zip, the Model tab's tables, and the example photos' answers."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from glasses import FaceResult, Prediction, Predictor
from glasses.images import ScaledImage
from tests.conftest import REPO
from webapp import model_card_tables
from webapp.batch_files import BatchFiles, caption
from webapp.classify_tab import EXAMPLE_PHOTOS, EXAMPLES_FOLDER, write_overlay
from webapp.face_table import COUNT_COLUMNS, PHOTO_COLUMNS, counts, headline, percent, photo_table
from webapp.result_files import overlay_name, overlay_path_in_zip, result_folder, unique


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    """Gradio's cache, where the app writes what it hands a visitor: a folder of this test's own."""
    folder = tmp_path / "gradio-cache"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def face(glasses_prob: float, label: str, box=(10, 10, 50, 50)) -> FaceResult:
    return FaceResult(box, 0.93, glasses_prob, label)


def photo(name: str, *faces: FaceResult, size=(80, 60)) -> Prediction:
    return Prediction(name, size, faces, photo=ScaledImage(Image.new("RGB", size, (90, 120, 150)), size))


def test_the_headline_is_the_largest_face_as_the_overlay_words_it():
    assert headline(photo("a.jpg", face(0.9712, "glasses"))) == "glasses 97%"
    assert headline(photo("a.jpg", face(0.12, "no_glasses"))) == "no glasses 88%"
    assert headline(photo("a.jpg", face(0.30, "glasses"), face(0.01, "no_glasses"))) == \
        "glasses 30% (largest of 2 faces)"   # labelled at the threshold: the confidence of that label
    assert headline(photo("a.jpg")) == "no face found"
    assert headline(Prediction.failed("a.jpg", "not an image")) == "cannot classify"


def test_the_photo_table_puts_label_and_probability_first_in_percent():
    assert PHOTO_COLUMNS[:2] == ["label", "glasses_prob"]
    assert photo_table(photo("a.jpg", face(0.9991, "glasses"))) == [
        ["glasses", "99.9%", 0, "93.0%", 10, 10, 50, 50]]
    assert photo_table(photo("a.jpg")) == [["no_face", "", "", "", "", "", "", ""]]
    assert percent(0.0008) == "0.1%" and percent(None) == ""


def test_counts_say_photos_faces_glasses_no_face_and_errors():
    predictions = [photo("a.jpg", face(0.9, "glasses"), face(0.1, "no_glasses")), photo("b.jpg"),
                   Prediction.failed("c.jpg", "not an image")]
    rows = [row for p in predictions for row in p.rows()]
    assert COUNT_COLUMNS == ["photos", "faces", "with glasses", "no face", "errors"]
    assert counts(len(predictions), rows) == [[3, 2, 1, 1, 1]]


@pytest.mark.parametrize("name, file, in_zip", [
    ("photo.jpg", "photo_overlay.jpg", "photo_overlay.jpg"),
    ("photos.zip/day1/beach.JPG", "beach_overlay.jpg", "photos.zip/day1/beach_overlay.jpg"),
    ("photos.zip/../../up.gif", "up_overlay.jpg", "photos.zip/up_overlay.jpg"),   # nothing climbs out
    ("/abs.png", "abs_overlay.jpg", "abs_overlay.jpg"),
    (".hidden.png", "hidden_overlay.jpg", "hidden_overlay.jpg"),
    ("subject01.glasses", "subject01.glasses_overlay.jpg", "subject01.glasses_overlay.jpg"),  # no image suffix
    ("a\x1b[2Jb.png", "a_x1b[2Jb_overlay.jpg", "a_x1b[2Jb_overlay.jpg"),   # an ESC sequence, escaped
    ("", "photo_overlay.jpg", "photo_overlay.jpg"),
])
def test_overlay_names_come_from_the_photos_own_name_made_safe(name, file, in_zip):
    assert (overlay_name(name), overlay_path_in_zip(name)) == (file, in_zip)


def test_names_taken_get_a_number():
    taken: set[str] = set()
    assert [unique(n, taken) for n in ("a.jpg", "a.jpg", "a.jpg", "b")] == ["a.jpg", "a-2.jpg", "a-3.jpg", "b"]


def test_the_overlay_is_a_jpeg_under_the_photos_name_in_a_folder_of_its_own_in_the_cache(cache):
    first = Path(write_overlay(photo("holiday.png", face(0.9, "glasses"))))
    second = Path(write_overlay(photo("holiday.png", face(0.9, "glasses"))))
    assert first.name == second.name == "holiday_overlay.jpg" and first.parent != second.parent
    assert first.is_relative_to(cache) and Image.open(first).format == "JPEG"
    assert Image.open(first).size == (80, 60)


def test_a_folder_the_clean_up_emptied_is_removed_by_the_next_request(cache):
    emptied = result_folder("glasses-test-")
    kept = result_folder("glasses-test-")
    (kept / "still.jpg").write_bytes(b"x")
    result_folder("glasses-test-")
    assert not emptied.exists() and kept.exists()


def test_batch_files_draw_each_photo_into_the_zip_and_the_first_ones_into_the_gallery(cache):
    folder = result_folder("glasses-batch-")
    predictions = [photo("a.jpg", face(0.97, "glasses")), photo("photos.zip/../a.jpg"), photo("a.jpg"),
                   Prediction.failed("notes.jpg", "not an image")]
    with BatchFiles(folder, gallery_max=2) as written:
        for prediction in predictions:
            written.add(prediction)
    assert [(Path(path).name, text) for path, text in written.gallery] == [
        ("a_overlay.jpg", "a.jpg: glasses 97%"), ("a_overlay-2.jpg", "photos.zip/../a.jpg: no face found")]
    with zipfile.ZipFile(written.zip_path) as archive:
        assert archive.namelist() == ["a_overlay.jpg", "photos.zip/a_overlay.jpg", "a_overlay-2.jpg"]
        assert Image.open(archive.open("a_overlay.jpg")).format == "JPEG"
    assert sorted(p.name for p in folder.iterdir()) == [
        "a_overlay-2.jpg", "a_overlay.jpg", "glasses_overlays.zip", "glasses_results.csv"]   # the third: zip only
    lines = written.csv_path.read_text().splitlines()
    assert len(lines) == 5 and lines[-1] == "notes.jpg,,,,,,,,,,error,not an image"
    assert caption(Prediction.failed("x\x1b.jpg", "not an image")) == "x\\x1b.jpg: cannot classify"


def test_a_batch_without_a_readable_photo_leaves_no_empty_zip(cache):
    folder = result_folder("glasses-batch-")
    with BatchFiles(folder) as written:
        written.add(Prediction.failed("notes.jpg", "not an image"))
    assert written.zip_path is None and written.gallery == []
    assert [p.name for p in folder.iterdir()] == ["glasses_results.csv"]


def test_the_model_tabs_tables_hold_the_shipped_cards_counts_and_provenance():
    card = json.loads((REPO / "weights" / "model_card.json").read_text())
    headers, rows = model_card_tables.test_metrics(card)
    assert headers[:3] == ["source", "photos", "with glasses"] and "ROC-AUC" in headers
    assert [row[0] for row in rows] == list(card["test_metrics"])
    assert rows[0][1:3] == [card["test_metrics"]["all"]["n"], card["test_metrics"]["all"]["positives"]]
    _, rows = model_card_tables.reviews(card)
    by_source = card["provenance"]["reviews"]["by_source"]
    assert {row[0]: row[1] for row in rows} == {source: c["reviewed"] for source, c in by_source.items()}
    _, rows = model_card_tables.provenance(card)
    facts = dict(rows)
    assert card["provenance"]["manifest"]["sha256"] in facts["manifest"]
    assert card["provenance"]["reviews"]["file"] in facts["decisions"]
    assert card["provenance"]["reviews"]["sha256"] in facts["decisions"]
    assert card["provenance"]["code"]["commit"] in facts["code"]


def test_a_card_without_those_sections_gives_empty_tables():
    for table in (model_card_tables.test_metrics, model_card_tables.reviews, model_card_tables.provenance):
        assert table({})[1] == []


def test_every_example_is_shipped_small_and_gets_the_answer_docs_claim():
    """webapp/examples/make.py's check: the shipped model answers each example as docs/examples.md says."""
    from webapp.examples import make
    assert sorted(EXAMPLE_PHOTOS) == sorted(make.EXPECTED)
    assert sum((EXAMPLES_FOLDER / name).stat().st_size for name in EXAMPLE_PHOTOS) < 400_000
    docs = (REPO / "docs" / "examples.md").read_text()
    assert all(f"`{name}`" in docs for name in EXAMPLE_PHOTOS)   # each one credited
    make.check(Predictor(threads=1))   # raises SystemExit naming any example answered otherwise
