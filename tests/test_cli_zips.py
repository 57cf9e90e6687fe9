"""`glasses predict photos.zip`: one result per image in the zip, named and refused as the app's Batch tab does."""
from __future__ import annotations

import io
import zipfile

from PIL import Image

from glasses.inputs import expand_inputs
from glasses.zips import NESTED_ZIP, ZipEntry
from tests.test_app_batch_inputs import make_zip
from tests.test_cli import as_csv_values, csv_rows, good_image, run_captured
from webapp.batch_inputs import batch_items


def png(size: int = 32) -> bytes:
    out = io.BytesIO()
    good_image(size).save(out, "PNG")
    return out.getvalue()


def mixed_zip(folder) -> str:
    """A zip of a corrupt member (its local header spoilt), good images (one named like nothing, one in a
    folder), a text file, a hidden image, an encrypted member and a zip inside it."""
    path = make_zip(folder / "photos.zip", {
        "a_corrupt.png": png(), "b_good.png": png(), "sub/c_good.gif": gif(), "d_header_only": png(28),
        "notes.txt": b"no photo", ".hidden.png": png(), "e_secret.png": png(), "inner.zip": b"PK\x05\x06" + bytes(18)})
    data = bytearray(open(path, "rb").read())
    data[:4] = b"XXXX"   # the first member's local header
    open(path, "wb").write(bytes(data))
    _mark_encrypted(path, "e_secret.png")
    return path


def _mark_encrypted(path: str, member: str) -> None:
    """Set the encrypted flag of `member` in both its headers, as a zip made with a password has it."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        local, central_offset = info.header_offset, archive.start_dir
    data = bytearray(open(path, "rb").read())
    data[local + 6] |= 0x1
    central = data.index(b"PK\x01\x02", central_offset)
    while data[central + 46:central + 46 + len(member)] != member.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 8] |= 0x1
    open(path, "wb").write(bytes(data))


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("L", (30, 30), 90).save(out, "GIF")
    return out.getvalue()


EXPECTED = [   # (name, label, error) in the zip's order: the nested zip's row first, as Batch gives them
    ("photos.zip/inner.zip", "error", NESTED_ZIP),
    ("photos.zip/a_corrupt.png", "error", "corrupt zip member: Bad magic number for file header"),
    ("photos.zip/b_good.png", "no_face", ""),
    ("photos.zip/sub/c_good.gif", "no_face", ""),
    ("photos.zip/d_header_only", "no_face", ""),
    ("photos.zip/e_secret.png", "error", "encrypted: unpacking it needs a password"),
]


def batch_rows(predictor, path: str) -> list[dict]:
    """The rows the Batch tab's items give for the upload at `path`."""
    items = ((item.name, item.read) for item in batch_items([path]))
    return [as_csv_values(row) for prediction in predictor.predict_many(items) for row in prediction.rows()]


def test_a_zip_gives_the_same_rows_on_the_command_line_as_in_batch(tmp_path, monkeypatch, random_weights):
    from glasses import Predictor

    path = mixed_zip(tmp_path)
    monkeypatch.chdir(tmp_path)   # the zip named as Batch names an upload: by its file name
    code, out, _ = run_captured(["predict", "photos.zip", "--weights", str(random_weights), "--format", "csv",
                                 "--quiet"])
    rows = csv_rows(out)
    assert [(row["name"], row["label"], row["error"]) for row in rows] == EXPECTED
    assert rows == batch_rows(Predictor(random_weights), path)
    assert code == 1   # some entries could not be read


def test_a_zip_named_by_its_path_names_its_entries_so(tmp_path, random_weights):
    path = make_zip(tmp_path / "photos.zip", {"one.png": png()})
    code, out, _ = run_captured(["predict", path, "--weights", str(random_weights), "--format", "csv", "--quiet"])
    assert [row["name"] for row in csv_rows(out)] == [f"{path}/one.png"] and code == 0


def test_the_cli_takes_its_zip_limits_from_the_environment_as_the_app_does(tmp_path, monkeypatch, random_weights):
    make_zip(tmp_path / "photos.zip", {"a.png": png(), "b.png": png(), "big.png": bytes(2 * 1024 * 1024)})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLASSES_MAX_UPLOAD_MB", "1")
    _, out, _ = run_captured(["predict", "photos.zip", "--weights", str(random_weights), "--format", "csv", "-q"])
    assert [(row["name"], row["error"]) for row in csv_rows(out)] == [
        ("photos.zip/a.png", ""), ("photos.zip/b.png", ""), ("photos.zip/big.png", "too large: 2.0 MB (limit 1 MB)")]
    monkeypatch.setenv("GLASSES_MAX_ZIP_IMAGES", "2")
    _, out, _ = run_captured(["predict", "photos.zip", "--weights", str(random_weights), "--format", "csv", "-q"])
    assert [(row["name"], row["error"]) for row in csv_rows(out)][2:] == [
        ("photos.zip", "holds 3 images; only the first 2 were read (limit 2 images)")]


def test_a_corrupt_or_missing_zip_is_one_row_and_a_zip_in_a_folder_is_passed_over(tmp_path, random_weights):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 and then nothing")
    folder = tmp_path / "folder"
    folder.mkdir()
    make_zip(folder / "inside.zip", {"one.png": png()})
    good_image().save(folder / "photo.png")
    inputs = [str(tmp_path / "broken.zip"), str(tmp_path / "missing.zip"), str(folder)]
    code, out, _ = run_captured(["predict", *inputs, "--weights", str(random_weights), "--format", "csv", "-q"])
    rows = [(row["name"], row["label"], row["error"]) for row in csv_rows(out)]
    assert rows[0][:2] == (str(tmp_path / "broken.zip"), "error") and rows[0][2].startswith("corrupt zip: ")
    assert rows[1:] == [(str(tmp_path / "missing.zip"), "error", "file not found"),
                        (str(folder / "photo.png"), "no_face", "")]
    assert code == 1


def test_a_zip_given_twice_is_read_once(tmp_path):
    path = make_zip(tmp_path / "photos.zip", {"one.png": png()})
    entries = expand_inputs([path, path])
    assert [entry.name for entry in entries if isinstance(entry, ZipEntry)] == [f"{path}/one.png"]


def test_overlays_of_a_zips_images_stay_inside_the_overlay_folder(tmp_path, random_weights):
    path = make_zip(tmp_path / "photos.zip", {"day1/beach.png": png(), "../up.png": png(40), "/abs.png": png()})
    out = tmp_path / "out"
    code, _, _ = run_captured(["predict", path, "--weights", str(random_weights), "--overlay", str(out), "-q"])
    assert code == 0
    drawn = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert drawn == ["abs.png", "day1/beach.png", "up.png"]
    assert Image.open(out / "up.png").size == (40, 40)
