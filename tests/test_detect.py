"""FaceDetector and Predictor on synthetic images and, where ../shared/data is present, on real photos."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

import glasses
import glasses.detect
import glasses.predictor
from tests.conftest import DATA, needs_data
from glasses.crop import crop_face
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


# ---------------------------------------------------------------- what a large image costs the detector

@pytest.fixture
def mtcnn_calls(monkeypatch):
    """(canvas size, smallest face asked for) of every MTCNN run."""
    calls = []
    original = glasses.detect.detect_face

    def spy(image, min_face, *args):
        calls.append((image.size, min_face))
        return original(image, min_face, *args)

    monkeypatch.setattr(glasses.detect, "detect_face", spy)
    return calls


def test_mtcnn_never_looks_at_more_than_max_side(predictor, mtcnn_calls):
    """MTCNN enlarges its canvas by 12 / min_face for its first pyramid level. A 5000x2000 photo scaled to 1280
    would ask for 40 * 0.256 = 10.2-pixel faces, a first level of 1500 pixels; both passes stay within 1280."""
    detector = predictor.detector
    assert detector.detect(Image.new("RGB", (5000, 2000), (120, 90, 60))) == []
    assert len(mtcnn_calls) == 2   # nothing found: the second pass ran too
    for (width, height), min_face in mtcnn_calls:
        assert max(width, height) * 12 / min_face <= detector.max_side + 1e-6, (width, height, min_face)
    assert max(mtcnn_calls[1][0]) <= 1.4 * detector.max_side   # the second pass's padded canvas


def test_a_reduced_copy_is_searched_for_faces_as_small_as_the_whole_photo(predictor, mtcnn_calls):
    """min_face_size counts pixels of the photo: in a half-size copy of a 3000x2000 photo, faces of 40 photo
    pixels (17 pixels of the 1280 view), not 40 pixels of the copy."""
    detector = predictor.detector
    detector.detect(Image.new("RGB", (3000, 2000), (120, 90, 60)))
    detector.detect(Image.new("RGB", (1500, 1000), (120, 90, 60)), full_size=(3000, 2000))
    whole, reduced = mtcnn_calls[0], mtcnn_calls[2]
    assert whole[0] == reduced[0] == (1280, 853)
    assert reduced[1] == pytest.approx(whole[1]) == pytest.approx(40 * 1280 / 3000)


def test_a_large_image_is_scaled_down_once_for_both_passes(predictor, monkeypatch, mtcnn_calls):
    resized = []
    original = Image.Image.resize

    def spy(self, *args, **kwargs):
        resized.append(self.size)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    assert predictor.detector.detect(Image.new("RGB", (3000, 2000), (120, 90, 60))) == []
    assert len(mtcnn_calls) == 2 and resized.count((3000, 2000)) == 1


def test_faces_are_classified_in_bounded_batches_with_the_same_answers(predictor, monkeypatch):
    rng = np.random.default_rng(0)
    crops = [Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)) for _ in range(150)]
    alone = np.concatenate([predictor.classify([crop]) for crop in crops[:5]])
    batches = []
    classifier = predictor.classifier

    def spy(batch):
        batches.append(len(batch))
        return classifier(batch)

    monkeypatch.setattr(predictor, "classifier", spy)
    probs = predictor.classify(crops)
    assert probs.shape == (150,) and max(batches) <= glasses.predictor.CLASSIFY_BATCH
    assert np.allclose(probs[:5], alone, atol=1e-5)


# ---------------------------------------------------------------- large photos read at reduced scale

@pytest.fixture
def reads(monkeypatch):
    """Every ScaledImage the Predictor reads: its held size and its full size."""
    calls = []
    original = glasses.predictor.load_image_scaled

    def spy(source, at_least, max_pixels):
        scaled = original(source, at_least, max_pixels)
        calls.append((scaled.image.size, scaled.full_size))
        return scaled

    monkeypatch.setattr(glasses.predictor, "load_image_scaled", spy)
    return calls


@needs_data
@pytest.mark.parametrize("orientation", [None, 6])
def test_large_jpeg_is_read_at_half_scale_with_boxes_in_full_pixels(predictor, upright, tmp_path, reads,
                                                                    orientation):
    """5200x5200 (twice the 2560 the Predictor keeps, and more): libjpeg decodes it at 2600x2600; the boxes are
    those of the 256-pixel photo, scaled, in pixels of the full image, turned upright when EXIF says so."""
    path, face = upright
    big = load_image(path).resize((5200, 5200), Image.BICUBIC)
    jpeg = tmp_path / "big.jpg"
    if orientation is None:
        big.save(jpeg, quality=90)
    else:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        big.transpose(Image.Transpose.ROTATE_90).save(jpeg, quality=90, exif=exif.tobytes())
    scaled, faces = predictor.predict_scaled(jpeg)
    assert reads == [((2600, 2600), (5200, 5200))]   # one read, at half scale; the face is large enough there
    assert scaled.image.size == (2600, 2600) and scaled.full_size == (5200, 5200)
    assert faces
    scale = 5200 / 256
    assert_box_inside(faces[0].box, (5200, 5200))
    assert np.abs(np.subtract(faces[0].box, np.multiply(face.box, scale))).max() <= 0.10 * 256 * scale * 0.5


@needs_data
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_small_faces_in_a_large_photo_are_cut_from_a_finer_read(random_weights, upright, tmp_path, fmt,
                                                                monkeypatch):
    """A face that spans fewer pixels than the classifier's input in the reduced copy is cut from the photo read
    again at the scale it needs, where its crop spans at least the input: on CelebA-HQ faces, crops enlarged
    from 0.5-0.75 of the input moved the shipped model's P(glasses) three times as much as crops cut from 1-1.5
    times it. (max_side 320 makes a 2600-pixel photo as large, for this Predictor, as a 10000-pixel one is for
    the default.)"""
    small = glasses.Predictor(random_weights, max_side=320)
    path, _ = upright
    photo = Image.new("RGB", (2600, 2600), (110, 120, 115))
    photo.paste(load_image(path).resize((400, 400), Image.BICUBIC), (1100, 900))
    saved = tmp_path / f"group.{fmt.lower()}"
    photo.save(saved, fmt, **({"quality": 95} if fmt == "JPEG" else {}))

    reads, crops = [], []
    original_read, original_classify = glasses.predictor.load_image_scaled, small.classify
    monkeypatch.setattr(glasses.predictor, "load_image_scaled",
                        lambda *args: reads.append(original_read(*args)) or reads[-1])
    monkeypatch.setattr(small, "classify", lambda batch: crops.extend(batch) or original_classify(batch))
    faces = small.predict(saved)

    assert len(faces) == 1 and len(reads) == 2
    first, finer = reads
    assert first.image.size == (650, 650)                  # 1/4: at least 640, twice max_side
    x1, y1, x2, y2 = faces[0].box
    crop_side = max(x2 - x1, y2 - y1) * (1 + small.crop_margin)
    assert crop_side * first.scale < small.input_size <= crop_side * finer.scale
    assert finer.full_size == (2600, 2600) and max(finer.image.size) < 2600
    from_full = crop_face(load_image(saved), faces[0].box, small.input_size, small.crop_margin)
    assert np.abs(np.asarray(crops[0], float) - np.asarray(from_full, float)).mean() < 4
