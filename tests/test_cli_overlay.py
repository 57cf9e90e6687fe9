"""`python -m glasses predict --overlay DIR`: each photo saved with its faces drawn, never over a photo."""
from __future__ import annotations

import io
import shutil

import pytest
from PIL import Image

from glasses.cli import main
from glasses.overlay import NEGATIVE_COLOUR, POSITIVE_COLOUR
from tests.conftest import DATA, needs_data
from tests.test_cli import csv_rows, good_image


def predict(*argv: str) -> int:
    return main(["predict", *argv, "--format", "csv", "--quiet"])


def files_under(folder) -> dict[str, str]:
    """Relative path -> image format, of every file under `folder`."""
    return {path.relative_to(folder).as_posix(): Image.open(path).format
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_overlays_mirror_the_inputs_folders_and_skip_unreadable_files(tmp_path, random_weights, capsys):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    good_image().save(photos / "a.png")
    good_image(40).save(photos / "sub" / "b.jpg")
    good_image(24).save(photos / "gif_without_extension", "GIF")
    (photos / "broken.jpg").write_text("not a photo")
    out = tmp_path / "overlays"
    assert predict(str(photos), "--weights", str(random_weights), "--overlay", str(out)) == 1   # broken.jpg
    assert [row["label"] for row in csv_rows(capsys.readouterr().out)] == ["no_face", "error", "no_face", "no_face"]
    assert files_under(out) == {"a.png": "PNG", "gif_without_extension.png": "PNG", "sub/b.jpg": "JPEG"}
    assert Image.open(out / "sub" / "b.jpg").size == (40, 40)


def test_files_from_several_folders_keep_their_place_under_the_deepest_common_one(tmp_path, random_weights):
    for folder in ("x/one", "x/two"):
        (tmp_path / folder).mkdir(parents=True)
        good_image().save(tmp_path / folder / "same name.png")
    out = tmp_path / "out"
    assert predict(str(tmp_path / "x/one/same name.png"), str(tmp_path / "x/two"), "--weights", str(random_weights),
                   "--overlay", str(out)) == 0
    assert files_under(out) == {"one/same name.png": "PNG", "two/same name.png": "PNG"}


def test_an_exif_rotated_jpeg_is_drawn_as_a_viewer_shows_it(tmp_path, random_weights):
    exif = Image.Exif()
    exif[0x0112] = 6   # stored on its side; a viewer turns it upright
    stored = io.BytesIO()
    good_image(40).crop((0, 0, 40, 20)).save(stored, "JPEG", exif=exif)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "turned.jpg").write_bytes(stored.getvalue())
    assert predict(str(tmp_path / "in" / "turned.jpg"), "--weights", str(random_weights),
                   "--overlay", str(tmp_path / "out")) == 0
    assert Image.open(tmp_path / "out" / "turned.jpg").size == (20, 40)


@pytest.mark.parametrize("case", ["inside an input folder", "holding an input", "a file", "one overlay for two"])
def test_an_overlay_folder_that_could_touch_a_photo_is_refused_before_anything_runs(tmp_path, random_weights,
                                                                                     capsys, case):
    photos = tmp_path / "photos"
    photos.mkdir()
    good_image().save(photos / "x.gif")
    good_image().save(photos / "x.gif.png")    # where x.gif's overlay would go
    before = files_under(tmp_path)
    overlay, inputs, reason = {
        "inside an input folder": (photos / "overlays", [photos], "is inside the input folder"),
        "holding an input": (tmp_path, [photos / "x.gif"], "holds the input"),
        "a file": (photos / "x.gif", [tmp_path / "elsewhere.png"], "is a file, not a folder"),
        "one overlay for two": (tmp_path / "out", [photos / "x.gif", photos / "x.gif.png"], "would both be drawn to"),
    }[case]
    with pytest.raises(SystemExit) as caught:
        predict(*map(str, inputs), "--weights", str(random_weights), "--overlay", str(overlay))
    assert caught.value.code == 2
    assert reason in capsys.readouterr().err
    assert files_under(tmp_path) == before


def test_an_overlay_that_cannot_be_written_exits_2_naming_it(tmp_path, random_weights, capsys):
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    good_image().save(tmp_path / "photos" / "a.png")
    good_image().save(tmp_path / "photos" / "sub" / "c.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").write_text("a file where the overlay's folder must go")
    with pytest.raises(SystemExit) as caught:
        predict(str(tmp_path / "photos"), "--weights", str(random_weights), "--overlay", str(tmp_path / "out"))
    assert caught.value.code == 2
    assert f"cannot write {tmp_path / 'out' / 'sub' / 'c.png'}: " in capsys.readouterr().err


@needs_data
def test_each_face_is_boxed_in_its_label_colour_and_the_rows_are_unchanged(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("subject01.glasses", "subject02.noglasses"):
        shutil.copy(DATA / "yalefaces" / name, photos / name)
    assert predict(str(photos)) == 0
    plain = capsys.readouterr().out
    assert predict(str(photos), "--overlay", str(tmp_path / "out")) == 0
    assert capsys.readouterr().out == plain
    rows = csv_rows(plain)
    assert [row["label"] for row in rows] == ["glasses", "no_glasses"]
    for row in rows:
        drawn = Image.open(tmp_path / "out" / f"{row['name'].rsplit('/', 1)[1]}.png").convert("RGB")
        x1, y1, y2 = int(row["x1"]), int(row["y1"]), int(row["y2"])
        colour = POSITIVE_COLOUR if row["label"] == "glasses" else NEGATIVE_COLOUR
        assert drawn.getpixel((x1, (y1 + y2) // 2)) == colour   # the box's left edge
