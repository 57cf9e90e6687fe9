"""FaceDetector and Predictor on synthetic images and, where ../shared/data is present, on real photos."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from tests.conftest import DATA, needs_data
from glasses.detect import FaceDetector
from glasses.images import load_image

CELEBA = DATA / "celeba_hq" / "images"
ORIENTATION = 0x0112


@pytest.mark.parametrize("size", [(1, 1), (10, 10), (15, 15), (15, 300), (300, 15)])
def test_images_below_16_px_have_no_faces(predictor, size):
    assert predictor.detector.detect(Image.new("RGB", size, (120, 90, 60))) == []
    assert predictor.predict(np.zeros((size[1], size[0], 3), np.uint8)) == []


@pytest.mark.parametrize("size", [(2000, 16), (20, 5000), (5000, 30), (100000, 16), (16, 100000)])
def test_strips_too_thin_once_scaled_have_no_faces_and_are_quick(predictor, size):
    """Scaled to max_side (1280), their shorter side drops below 16 px: no face is left to find in either pass.
    (MTCNN was handed an empty pyramid, or, for 100000x16, upscaled the strip 234 times: 46 s, 7 GB.)"""
    image = Image.new("RGB", size, (120, 90, 60))
    started = time.perf_counter()
    assert predictor.detector.detect(image) == []
    assert time.perf_counter() - started < 2


def test_uniform_gray_has_no_faces(predictor):
    assert predictor.detector.detect(Image.new("RGB", (300, 200), (128, 128, 128))) == []


@pytest.mark.parametrize("kwargs", [{"min_face_size": 11}, {"max_side": 63}])
def test_detector_refuses_settings_it_cannot_honour(kwargs):
    with pytest.raises(ValueError):
        FaceDetector(**kwargs)


# ---------------------------------------------------------------- real photos beside the checkout

def celeba_names(count: int) -> list:
    names = sorted(CELEBA.glob("*.jpg"))[:count]
    assert len(names) == count
    return names


@pytest.fixture(scope="module")
def upright(predictor):
    """One CelebA-HQ photo (256x256) and the largest face the predictor finds in it, found once per module."""
    path = celeba_names(1)[0]
    faces = predictor.predict(path)
    assert faces, f"no face found in {path}"
    return path, faces[0]


def assert_box_inside(box, size):
    x1, y1, x2, y2 = box
    assert 0 <= x1 < x2 <= size[0] and 0 <= y1 < y2 <= size[1], (box, size)


@needs_data
def test_photo_with_many_faces(predictor):
    grid = Image.new("RGB", (768, 512))
    for i, path in enumerate(celeba_names(6)):
        tile = load_image(path)
        assert tile.size == (256, 256)
        grid.paste(tile, ((i % 3) * 256, (i // 3) * 256))
    faces = predictor.predict(grid)
    assert len(faces) >= 5
    areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in (face.box for face in faces)]
    assert areas == sorted(areas, reverse=True)
    for face in faces:
        assert_box_inside(face.box, grid.size)
        assert 0.9 <= face.face_prob <= 1.0
        assert 0.0 <= face.glasses_prob <= 1.0
    tiles = {(int((x1 + x2) / 2 // 256), int((y1 + y2) / 2 // 256)) for x1, y1, x2, y2 in (f.box for f in faces)}
    assert len(tiles) >= 5   # the faces are in different tiles, not one face found several times


@needs_data
def test_exif_rotated_photo_is_found_upright(predictor, upright, tmp_path):
    path, face = upright
    original = load_image(path)
    # Stored turned 90 degrees counter-clockwise, tagged so that a viewer turns it back (Orientation 6).
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    rotated_path = tmp_path / "rotated.jpg"
    original.transpose(Image.Transpose.ROTATE_90).save(rotated_path, "JPEG", quality=95, exif=exif.tobytes())

    shown = load_image(rotated_path)
    assert shown.size == original.size
    assert np.abs(np.asarray(shown, float) - np.asarray(original, float)).mean() < 8   # upright again

    faces = predictor.predict(rotated_path)
    assert faces
    assert np.abs(np.subtract(faces[0].box, face.box)).max() <= 15, (faces[0].box, face.box)


@needs_data
def test_large_photo(predictor, upright):
    path, face = upright
    original = load_image(path)
    scale = 4000 / original.width
    big = original.resize((4000, 4000), Image.BICUBIC)
    faces = predictor.predict(big)
    assert faces
    x1, y1, x2, y2 = faces[0].box
    ox1, oy1, ox2, oy2 = face.box
    assert_box_inside(faces[0].box, big.size)
    assert (x2 - x1) == pytest.approx((ox2 - ox1) * scale, rel=0.10)
    assert (y2 - y1) == pytest.approx((oy2 - oy1) * scale, rel=0.10)
    side = max(ox2 - ox1, oy2 - oy1) * scale
    assert abs((x1 + x2) / 2 - (ox1 + ox2) / 2 * scale) <= 0.10 * side
    assert abs((y1 + y2) / 2 - (oy1 + oy2) / 2 * scale) <= 0.10 * side


@needs_data
@pytest.mark.parametrize("name", ["olivetti/images/011.png", "olivetti/images/014.png",
                                  "cmu_faces/an2i/an2i_right_angry_sunglasses.pgm"])
def test_second_pass_finds_faces_the_fast_pass_misses(predictor, name):
    """Tight face crops and faces in sunglasses turned aside: MTCNN's fast pass (and its defaults) find nothing."""
    from facenet_pytorch import MTCNN

    image = load_image(DATA / name)
    boxes, probs = MTCNN(keep_all=True, min_face_size=min(40, min(image.size) // 4)).detect(image)
    assert boxes is None or not (probs.astype(float) >= 0.9).any()
    faces = predictor.detector.detect(image)
    assert len(faces) == 1 and faces[0].prob >= 0.9
    assert_box_inside(faces[0].box, image.size)
