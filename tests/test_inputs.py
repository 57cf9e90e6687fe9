"""glasses.inputs.expand_inputs: which entries of a folder are taken, and what a folder that cannot be read gives."""
from __future__ import annotations

import os

from PIL import Image

from glasses.images import ImageError
from glasses.inputs import expand_inputs
from tests.test_images import finished_within, png_claiming_size


def test_fifos_in_a_folder_are_passed_over_without_opening_them(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    os.mkfifo(tmp_path / "b_photo.jpg")        # named like an image
    os.mkfifo(tmp_path / "c_subject99.glasses")  # named like nothing: its header would be read
    assert finished_within(10, lambda: expand_inputs([str(tmp_path)])) == [str(tmp_path / "a.png")]


def test_a_dangling_link_named_like_an_image_is_still_taken(tmp_path):
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "gone.jpg")]   # reported "file not found" later


def test_an_image_past_pillows_bomb_limit_is_taken_whatever_its_name(tmp_path):
    path = tmp_path / "huge_scan"
    path.write_bytes(png_claiming_size(30000, 30000))    # 900 megapixels: Pillow refuses to open it
    assert expand_inputs([str(tmp_path)]) == [str(path)]   # then reported "image too large", not passed over


def test_a_folder_that_cannot_be_listed_comes_back_as_an_error_in_its_place(tmp_path, unlistable):
    for folder in ("a", "b_locked", "c"):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / folder / "x.png")
    locked = str(tmp_path / "b_locked")
    unlistable(locked)
    found = expand_inputs([str(tmp_path)])
    assert found[0] == str(tmp_path / "a" / "x.png")
    assert isinstance(found[1], ImageError) and (found[1].source, found[1].reason) == (locked, "permission denied")
    assert found[2:] == [str(tmp_path / "c" / "x.png")]
