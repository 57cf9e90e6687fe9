"""glasses.detect.FaceDetector (BlazeFace over an image pyramid) and glasses.blazeface, on synthetic images and,
where ../shared/data is present, on real CelebA-HQ photos pasted onto canvases whose true face boxes are known."""
from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PIL import Image, ImageOps

from glasses.blazeface import SHORT_RANGE, BlazeFace, anchor_centres, weighted_nms
from glasses.detect import CANVAS_FACE, PYRAMID_STEP, Detection, FaceDetector, _merge
from tests.conftest import DATA, needs_data

CELEBA = DATA / "celeba_hq" / "images"
GREY = (128, 128, 128)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def network() -> BlazeFace:
    return BlazeFace(SHORT_RANGE, threads=1)


# ---------------------------------------------------------------- helpers

def celeba(count: int) -> list[Image.Image]:
    """The first `count` CelebA-HQ photos by file name (256 x 256 RGB, one centred face each)."""
    paths = sorted(CELEBA.glob("*.jpg"))[:count]
    assert len(paths) == count, f"{CELEBA} holds fewer than {count} photos"
    photos = []
    for path in paths:
        with Image.open(path) as image:
            photos.append(image.convert("RGB"))
    return photos


def iou(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    w = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    h = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def mirrored(box, width: float) -> np.ndarray:
    x1, y1, x2, y2 = box
    return np.array([width - x2, y1, width - x1, y2])


def side(box) -> float:
    return max(box[2] - box[0], box[3] - box[1])


def assert_well_formed(faces: list[Detection], size: tuple[int, int]) -> None:
    """Float boxes inside the image, probabilities in [0, 1], largest first."""
    for face in faces:
        assert isinstance(face.box, tuple) and len(face.box) == 4
        assert all(type(v) is float for v in face.box), face.box
        x1, y1, x2, y2 = face.box
        assert 0 <= x1 < x2 <= size[0] and 0 <= y1 < y2 <= size[1], (face.box, size)
        assert 0.0 <= face.prob <= 1.0
    areas = [face.area for face in faces]
    assert areas == sorted(areas, reverse=True)


def match(faces: list[Detection], expected: np.ndarray, min_iou: float = 0.5) -> list[int]:
    """For each expected box, the index of the face found on it (IoU >= min_iou), each face used once."""
    boxes = [np.array(face.box) for face in faces]
    used, matched = set(), []
    for want in expected:
        overlaps = [iou(box, want) if i not in used else 0.0 for i, box in enumerate(boxes)]
        best = int(np.argmax(overlaps)) if overlaps else -1
        assert best >= 0 and overlaps[best] >= min_iou, (want, [f.box for f in faces])
        used.add(best)
        matched.append(best)
    return matched


@pytest.fixture(scope="module")
def references(detector):
    """The first 20 CelebA-HQ photos and the one face the detector finds in each (checked below)."""
    if not CELEBA.is_dir():
        pytest.skip("real photos in ../shared/data are absent (they sit beside the checkout in CI)")
    photos = celeba(20)
    return photos, [detector.detect(photo) for photo in photos]


def group_photo(photos, boxes, canvas: tuple[int, int], face_sides: list[int], columns: int):
    """The photos scaled so that their faces are `face_sides` wide (cycled), pasted on a grid over a grey canvas,
    and where their faces are now."""
    image = Image.new("RGB", canvas, GREY)
    rows = -(-len(photos) // columns)
    cell_w, cell_h = canvas[0] // columns, canvas[1] // rows
    expected = []
    for i, (photo, box) in enumerate(zip(photos, boxes)):
        scale = face_sides[i % len(face_sides)] / (box[2] - box[0])
        tile = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.BICUBIC)
        x = (i % columns) * cell_w + (cell_w - tile.width) // 2 + (i * 37) % 50 - 25
        y = (i // columns) * cell_h + (cell_h - tile.height) // 2
        image.paste(tile, (x, y))
        expected.append(np.array(box) * scale + [x, y, x, y])
    return image, np.array(expected)


# ---------------------------------------------------------------- settings

@pytest.mark.parametrize("kwargs, name", [
    ({"min_face_size": 11}, "min_face_size"), ({"min_face_size": 0}, "min_face_size"),
    ({"max_side": 127}, "max_side"), ({"max_side": 0}, "max_side"),
    ({"min_prob": 0.0}, "min_prob"), ({"min_prob": 1.0}, "min_prob"), ({"min_prob": -0.2}, "min_prob"),
    ({"min_prob": 1.5}, "min_prob"),
    ({"second_look_prob": 0.0}, "second_look_prob"), ({"second_look_prob": 1.0}, "second_look_prob"),
    ({"second_look_prob": 2.0}, "second_look_prob"),
])
def test_settings_it_cannot_honour_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=name):
        FaceDetector(**kwargs)


def test_settings_at_their_limits_are_accepted():
    detector = FaceDetector(min_face_size=12, max_side=128, min_prob=0.01, second_look_prob=0.99, threads=1)
    assert (detector.min_face_size, detector.max_side) == (12, 128)
    assert detector.network.min_score == pytest.approx(0.01)   # the lower of the two thresholds


# ---------------------------------------------------------------- images without faces

@pytest.mark.parametrize("size", [(1, 1), (10, 10), (15, 15), (15, 300), (300, 15), (5000, 15)],
                         ids=lambda size: f"{size[0]}x{size[1]}")
def test_images_below_16_px_have_no_faces(detector, size):
    assert detector.detect(Image.new("RGB", size, (120, 90, 60))) == []


@pytest.mark.parametrize("size", [(2000, 16), (20, 5000), (5000, 30), (40000, 200), (100000, 16), (16, 100000)],
                         ids=lambda size: f"{size[0]}x{size[1]}")
def test_thin_strips_have_no_faces_and_are_quick(detector, size):
    """At the largest pyramid scale a 100000 x 16 strip's shorter side rounds to 0 canvas pixels: that level
    holds no face and must be skipped, not handed to Pillow."""
    started = time.perf_counter()
    assert detector.detect(Image.new("RGB", size, (120, 90, 60))) == []
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("mode, size, colour", [("RGB", (300, 200), GREY), ("RGB", (640, 480), (0, 0, 0)),
                                                ("L", (200, 300), 255), ("RGBA", (1024, 768), (30, 60, 90, 255))])
def test_plain_images_have_no_faces(detector, mode, size, colour):
    assert detector.detect(Image.new(mode, size, colour)) == []


@pytest.mark.parametrize("size, seed", [((256, 256), 0), ((800, 600), 1), ((1200, 1600), 2)])
def test_random_noise_has_no_faces(detector, size, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    assert detector.detect(Image.fromarray(pixels)) == []


# ---------------------------------------------------------------- one real face

@needs_data
def test_celeba_photos_have_one_face_over_their_centre(references):
    photos, found = references
    for photo, faces in zip(photos, found):
        assert len(faces) == 1, [f.box for f in faces]
        assert_well_formed(faces, photo.size)
        x1, y1, x2, y2 = faces[0].box
        assert x1 < 128 < x2 and y1 < 128 < y2, faces[0].box
        assert 80 <= side(faces[0].box) <= 230, faces[0].box   # CelebA-HQ's faces fill about 60% of the photo
        assert faces[0].prob >= 0.75


@needs_data
def test_a_grey_copy_of_a_photo_is_searched_as_rgb(detector, references):
    photos, found = references
    faces = detector.detect(photos[0].convert("L"))
    assert len(faces) == 1 and iou(faces[0].box, found[0][0].box) > 0.8


@needs_data
@pytest.mark.parametrize("canvas", [(1600, 1200), (1200, 1600), (3000, 1000), (1000, 3000)])
@pytest.mark.parametrize("scale", [0.5, 1, 2.5])
@pytest.mark.parametrize("offset", [(37, 53), (1000, 700)])
def test_a_photo_pasted_onto_a_canvas_is_found_where_it_lies(detector, references, canvas, scale, offset):
    """Each pyramid canvas and the letterboxed whole view map their boxes back to photo pixels: the face moves by
    the offset and grows with the photo, on landscape, portrait and very wide or tall canvases."""
    photos, found = references
    tile = photos[0].resize((round(256 * scale),) * 2, Image.BICUBIC)
    offset = (min(offset[0], canvas[0] - tile.width), min(offset[1], canvas[1] - tile.height))
    image = Image.new("RGB", canvas, GREY)
    image.paste(tile, offset)
    expected = np.array(found[0][0].box) * scale + [*offset, *offset]

    faces = detector.detect(image)
    assert len(faces) == 1, [f.box for f in faces]
    assert_well_formed(faces, canvas)
    assert np.abs(np.array(faces[0].box) - expected).max() <= 0.1 * side(expected), (faces[0].box, expected)


# ---------------------------------------------------------------- group photos

@needs_data
def test_eight_faces_of_80_to_160_px_in_a_2400_px_group_photo(detector, references):
    """What BlazeFace on the whole photo letterboxed into 128 x 128 cannot do (faces of 4-8 view pixels)."""
    photos, found = references
    image, expected = group_photo(photos[:8], [faces[0].box for faces in found[:8]], (2400, 1600),
                                  [80, 100, 120, 140, 160], columns=4)
    assert _merge(detector._whole(image, image.size, pad=0), image.size, detector.min_prob) == []

    faces = detector.detect(image)
    assert len(faces) == 8, [f.box for f in faces]
    assert_well_formed(faces, image.size)
    match(faces, expected)


@needs_data
def test_twelve_faces_of_80_px_in_a_4000_px_group_photo(detector, references):
    photos, found = references
    image, expected = group_photo(photos[:12], [faces[0].box for faces in found[:12]], (4000, 3000), [80],
                                  columns=4)
    faces = detector.detect(image)
    assert len(faces) == 12, [f.box for f in faces]
    assert_well_formed(faces, image.size)
    for index, want in zip(match(faces, expected), expected):
        assert side(faces[index].box) == pytest.approx(side(want), rel=0.2)


@needs_data
def test_faces_of_different_sizes_come_largest_first(detector, references):
    photos, found = references
    image, expected = group_photo(photos[:3], [faces[0].box for faces in found[:3]], (1800, 600),
                                  [60, 300, 140], columns=3)
    faces = detector.detect(image)
    assert len(faces) == 3
    assert_well_formed(faces, image.size)
    assert match(faces, expected) == [2, 0, 1]


# ---------------------------------------------------------------- the pyramid

def test_a_small_photo_needs_no_pyramid(detector):
    assert detector.scales((256, 256)) == []
    assert detector.scales((128, 96)) == []
    assert detector.largest_canvas_side((256, 256)) == SHORT_RANGE.side


def test_pyramid_of_a_large_photo_is_largest_first_and_step_apart(detector):
    scales = detector.scales((4000, 3000))
    assert len(scales) >= 2
    assert scales[0] == pytest.approx(min(CANVAS_FACE / detector.min_face_size, detector.max_side / 4000))
    for larger, smaller in zip(scales, scales[1:]):
        assert larger / smaller == pytest.approx(PYRAMID_STEP)
    view = SHORT_RANGE.side / 4000   # the whole-photo view comes after the pyramid
    assert scales[-1] > view and scales[-1] / PYRAMID_STEP <= view * 1.25
    assert detector.largest_canvas_side((4000, 3000)) == round(4000 * scales[0]) <= detector.max_side


@pytest.mark.parametrize("kwargs, size, largest", [
    ({"max_side": 1024}, (4000, 3000), 1024 / 4000),    # capped by max_side
    ({"max_side": 1024}, (3000, 4000), 1024 / 4000),    # the longer side, whichever it is
    ({"min_face_size": 80}, (4000, 3000), CANVAS_FACE / 80),
    ({"min_face_size": 20}, (1000, 800), CANVAS_FACE / 20),
])
def test_largest_scale_respects_max_side_and_min_face_size(kwargs, size, largest):
    detector = FaceDetector(threads=1, **kwargs)
    assert detector.scales(size)[0] == pytest.approx(largest)
    assert max(size) * detector.scales(size)[0] <= detector.max_side + 1e-6


@pytest.fixture
def canvases(monkeypatch):
    """`canvases(detector)`: the (height, width) of every canvas that detector's network is run on, from then."""
    def spy_on(detector):
        shapes, network = [], detector.network

        def spy(canvas):
            shapes.append(canvas.shape[:2])
            return network(canvas)

        monkeypatch.setattr(detector, "network", spy)
        return shapes
    return spy_on


def test_a_reduced_copy_is_searched_for_faces_as_small_as_the_whole_photo(detector, canvases):
    """min_face_size counts photo pixels: a half-size copy of a 4000 x 3000 photo gets the same canvases as the
    photo itself, twice as large relative to the copy as it would get on its own."""
    assert [s * 2000 for s in detector.scales((2000, 1500), held=0.5)] == pytest.approx(
        [s * 4000 for s in detector.scales((4000, 3000))])
    assert detector.scales((2000, 1500))[0] * 2000 == pytest.approx(detector.scales((4000, 3000))[0] * 4000 / 2)

    shapes = canvases(detector)
    assert detector.detect(Image.new("RGB", (4000, 3000), GREY)) == []
    whole = list(shapes)
    shapes.clear()
    assert detector.detect(Image.new("RGB", (2000, 1500), GREY), full_size=(4000, 3000)) == []
    reduced = list(shapes)
    shapes.clear()
    assert detector.detect(Image.new("RGB", (2000, 1500), GREY)) == []
    alone = list(shapes)
    assert reduced == whole
    assert max(max(s) for s in alone) < max(max(s) for s in whole)
    assert whole[0] == (1504, 2000)   # 0.5 x (3000, 4000), padded to whole strides of 16


def test_no_canvas_is_larger_than_max_side(canvases):
    detector = FaceDetector(max_side=1000, threads=1)
    shapes = canvases(detector)
    assert detector.detect(Image.new("RGB", (5000, 2000), GREY)) == []
    assert shapes and max(max(s) for s in shapes) <= 1008   # 1000, up to a whole stride
    assert all(h % 16 == 0 and w % 16 == 0 for h, w in shapes)


# ---------------------------------------------------------------- the second look and mirroring

@needs_data
def test_a_tightly_cropped_face_is_found(detector, references, monkeypatch):
    """A face filling the whole frame is larger than BlazeFace saw in training; the second look (the photo
    padded) finds it, where a first look at some of them finds nothing."""
    photos, found = references
    crops = [photo.crop(tuple(round(v) for v in faces[0].box)) for photo, faces in zip(photos[:12], found[:12])]
    for crop in crops:
        faces = detector.detect(crop)
        assert len(faces) == 1, [f.box for f in faces]
        assert_well_formed(faces, crop.size)
        assert iou(faces[0].box, (0, 0, *crop.size)) > 0.7, (faces[0].box, crop.size)

    monkeypatch.setattr(detector, "_second_look", lambda image: [])
    missed = sum(not detector.detect(crop) for crop in crops)
    assert missed >= 1   # so the second look was needed above


@needs_data
def test_the_second_look_maps_mirrored_views_back(detector, references):
    """A face off the centre of its image: every view of the second look, mirrored ones too, sees it in place."""
    photos, found = references
    x1, y1, x2, y2 = (round(v) for v in found[0][0].box)
    image = Image.new("RGB", (round(2.2 * (x2 - x1)), y2 - y1), (0, 0, 0))
    image.paste(photos[0].crop((x1, y1, x2, y2)), (0, 0))          # the face on the left, black on the right
    face = (0, 0, x2 - x1, y2 - y1)
    seen = [box for view in detector._second_look(image) for box, score in view
            if score >= detector.second_look_prob]
    assert len(seen) >= 4   # in the plain and the mirrored views
    for box in seen:
        assert iou(box, face) > 0.7, (box, face)


@needs_data
@pytest.mark.parametrize("where", ["photo", "canvas", "tight crop"])
def test_a_mirrored_image_gives_the_mirrored_box(detector, references, where):
    photos, found = references
    photo = photos[1]
    if where == "canvas":
        image = Image.new("RGB", (1600, 1200), GREY)
        image.paste(photo, (100, 700))
    elif where == "tight crop":
        image = photo.crop(tuple(round(v) for v in found[1][0].box))
    else:
        image = photo
    faces = detector.detect(image)
    flipped = detector.detect(ImageOps.mirror(image))
    assert len(faces) == len(flipped) == 1
    expected = mirrored(faces[0].box, image.width)
    assert np.abs(np.array(flipped[0].box) - expected).max() <= 0.1 * side(expected), (flipped[0].box, expected)


# ---------------------------------------------------------------- merging the faces of all views

def test_merge_keeps_faces_drops_parts_of_faces_and_weak_ones():
    face = np.array([100.0, 100, 300, 300])
    found = [
        (face, 0.9),
        (face + 4, 0.8),                                   # the same face at another scale: merged into it
        (np.array([150.0, 150, 200, 200]), 0.85),          # an eye, inside the face, weaker: dropped
        (np.array([220.0, 100, 320, 200]), 0.8),           # 80% inside the face: dropped
        (np.array([100.0, 260, 200, 360]), 0.8),           # 40% inside: a face of its own
        (np.array([500.0, 300, 560, 360]), 0.5),           # below min_prob
        (np.array([-20.0, -10, 60, 70]), 0.85),            # clipped to the image
        (np.array([700.0, 10, 800, 100]), 0.9),            # wholly outside the image: nothing left
    ]
    faces = _merge(found, (640, 480), min_prob=0.75)
    assert [face.box for face in faces] == [
        pytest.approx(tuple((face * 0.9 + (face + 4) * 0.8) / 1.7)),
        pytest.approx((100.0, 260, 200, 360)),
        pytest.approx((0.0, 0, 60, 70)),
    ]
    assert [face.prob for face in faces] == [0.9, 0.8, 0.85]
    assert all(type(v) is float for face in faces for v in face.box)


def test_merge_of_nothing_is_nothing():
    assert _merge([], (640, 480), 0.75) == []
    assert _merge([(np.array([0.0, 0, 50, 50]), 0.7)], (640, 480), 0.75) == []


def test_a_large_false_box_over_a_group_hides_none_of_its_faces():
    """Only a part of a face (inside it, at most half its size, scored no higher) is dropped: faces of a group
    inside one large, weaker false box (a pattern on the wall behind them) stay faces."""
    wall = (np.array([0.0, 0, 1450, 1000]), 0.8)
    faces = [(np.array([100.0 + 300 * i, 200, 360 + 300 * i, 460]), 0.9) for i in range(3)]
    assert len(_merge([wall, *faces], (1500, 1000), 0.75)) == 4


def test_a_smaller_face_beside_a_larger_one_is_kept():
    faces = _merge([(np.array([0.0, 0, 100, 100]), 0.8), (np.array([100.0, 0, 150, 50]), 0.99)], (200, 200), 0.75)
    assert [face.box for face in faces] == [(0.0, 0.0, 100.0, 100.0), (100.0, 0.0, 150.0, 50.0)]


# ---------------------------------------------------------------- glasses.blazeface

def mediapipe_anchors(height: int, width: int) -> np.ndarray:
    """MediaPipe's SsdAnchorsCalculator as face_detection_short_range.pbtxt sets it (4 layers, strides 8, 16, 16,
    16, one aspect ratio plus the interpolated one, fixed anchor size, offset 0.5), in pixels."""
    strides, centres, layer = [8, 16, 16, 16], [], 0
    while layer < len(strides):
        per_cell, last = 0, layer
        while last < len(strides) and strides[last] == strides[layer]:
            per_cell += 2   # aspect ratio 1.0 and interpolated_scale_aspect_ratio 1.0
            last += 1
        rows, cols = -(-height // strides[layer]), -(-width // strides[layer])
        for y in range(rows):
            for x in range(cols):
                for _ in range(per_cell):
                    centres.append(((x + 0.5) / cols * width, (y + 0.5) / rows * height))
        layer = last
    return np.array(centres)


def test_anchors_of_the_square_view_are_mediapipes():
    anchors = anchor_centres(SHORT_RANGE, 128, 128)
    assert anchors.shape == (896, 2) and anchors.dtype == np.float32
    np.testing.assert_allclose(anchors, mediapipe_anchors(128, 128), atol=1e-4)
    # 512 on a 16 x 16 grid of stride 8, two per cell; then 384 on 8 x 8 of stride 16, six per cell
    first = anchors[:512].reshape(16, 16, 2, 2)
    assert (first == first[:, :, :1]).all()
    ys, xs = np.mgrid[0:16, 0:16]
    np.testing.assert_array_equal(first[:, :, 0, 0], (xs + 0.5) * 8)
    np.testing.assert_array_equal(first[:, :, 0, 1], (ys + 0.5) * 8)
    second = anchors[512:].reshape(8, 8, 6, 2)
    assert (second == second[:, :, :1]).all()
    ys, xs = np.mgrid[0:8, 0:8]
    np.testing.assert_array_equal(second[:, :, 0, 0], (xs + 0.5) * 16)
    np.testing.assert_array_equal(second[:, :, 0, 1], (ys + 0.5) * 16)


@pytest.mark.parametrize("height, width", [(256, 384), (384, 256), (128, 1024)])
def test_anchors_of_a_larger_canvas_are_row_by_row(height, width):
    anchors = anchor_centres(SHORT_RANGE, height, width)
    assert len(anchors) == (height // 8) * (width // 8) * 2 + (height // 16) * (width // 16) * 6
    np.testing.assert_allclose(anchors, mediapipe_anchors(height, width), atol=1e-3)
    assert tuple(anchors[2 * (width // 8)]) == (4.0, 12.0)   # the first anchor of the second row


def test_anchors_of_a_256_by_384_canvas():
    assert len(anchor_centres(SHORT_RANGE, 256, 384)) == 32 * 48 * 2 + 16 * 24 * 6


def test_weighted_nms_merges_overlapping_boxes_into_their_weighted_mean():
    boxes = np.array([[0.0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 20]])
    scores = np.array([0.6, 0.9, 0.7, 0.8])
    keypoints = np.arange(4 * 6 * 2, dtype=float).reshape(4, 6, 2)
    faces = weighted_nms(boxes, scores, keypoints)
    assert [score for _, score, _ in faces] == [0.9, 0.7]
    # 0 and 3 overlap 1 by IoU 0.68 and 0.39 (> 0.3): one face, scored as its best box
    members = [1, 0, 3]
    weights = scores[members][:, None]
    np.testing.assert_allclose(faces[0][0], (boxes[members] * weights).sum(0) / weights.sum())
    np.testing.assert_allclose(faces[0][2], (keypoints[members] * weights[:, :, None]).sum(0) / weights.sum())
    np.testing.assert_allclose(faces[1][0], boxes[2])
    np.testing.assert_allclose(faces[1][2], keypoints[2])


def test_weighted_nms_keeps_boxes_that_overlap_little():
    boxes = np.array([[0.0, 0, 10, 10], [6, 0, 16, 10]])   # IoU 4/16 = 0.25
    faces = weighted_nms(boxes, np.array([0.8, 0.9]), np.zeros((2, 0, 2)))
    assert [(tuple(box), score) for box, score, _ in faces] == [((6, 0, 16, 10), 0.9), ((0, 0, 10, 10), 0.8)]


@pytest.mark.parametrize("shape", [(100, 128, 3), (128, 120, 3), (8, 8, 3)])
def test_raw_refuses_canvas_sides_not_multiples_of_16(network, shape):
    with pytest.raises(ValueError, match="multiples of 16"):
        network.raw(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("height, width", [(128, 128), (256, 384), (384, 256), (16, 16)])
def test_raw_gives_one_row_per_anchor(network, height, width):
    regressors, logits = network.raw(np.zeros((height, width, 3), np.uint8))
    count = len(anchor_centres(SHORT_RANGE, height, width))
    assert regressors.shape == (count, 16) and logits.shape == (count,)
    assert np.isfinite(regressors).all() and np.isfinite(logits).all()


def test_a_blank_canvas_has_no_faces(network):
    assert network(np.zeros((128, 128, 3), np.uint8)) == []
    assert network(np.full((256, 384, 3), 128, np.uint8)) == []


@needs_data
@pytest.mark.parametrize("height, width, x, y", [(128, 128, 0, 0), (256, 384, 240, 96), (384, 256, 16, 250)])
def test_a_face_on_a_canvas_is_found_where_it_lies(network, references, height, width, x, y):
    """The anchors' order (row, column, anchor) matches the network's outputs on non-square canvases too."""
    photos, found = references
    canvas = np.zeros((height, width, 3), np.uint8)
    canvas[y:y + 128, x:x + 128] = np.asarray(photos[0].resize((128, 128), Image.BILINEAR))
    expected = np.array(found[0][0].box) / 2 + [x, y, x, y]
    faces = network(canvas)
    assert faces and faces[0].score >= 0.75
    assert [face.score for face in faces] == sorted((face.score for face in faces), reverse=True)
    best = faces[0]
    assert np.abs(np.array(best.box) - expected).max() <= 0.1 * side(expected), (best.box, expected)
    # key points: right eye, left eye, nose tip, mouth, right ear, left ear; the eyes and mouth inside the box
    points = best.keypoints
    assert points.shape == (6, 2)
    x1, y1, x2, y2 = best.box
    for point in points[:4]:
        assert x1 < point[0] < x2 and y1 < point[1] < y2, (point, best.box)
    assert points[0, 0] < points[1, 0]                        # the person's right eye is on the image's left
    assert max(points[0, 1], points[1, 1]) < points[2, 1] < points[3, 1]   # eyes above the nose above the mouth


@needs_data
def test_min_score_drops_weaker_faces(network, references):
    photos, _ = references
    canvas = np.asarray(photos[0].resize((128, 128), Image.BILINEAR))
    best = network(canvas)[0].score
    assert network.min_score == SHORT_RANGE.min_score < best
    assert BlazeFace(SHORT_RANGE, threads=1, min_score=(best + 1) / 2)(canvas) == []
    kept = BlazeFace(SHORT_RANGE, threads=1, min_score=best - 0.01)(canvas)
    assert kept and all(face.score >= best - 0.01 for face in kept)


@needs_data
def test_a_weaker_face_beside_found_ones_is_kept_once_a_closer_look_confirms_it(detector, references):
    """In a photo with faces, a candidate scored from second_look_prob to min_prob is looked at again, closer:
    a real face there is kept, a blank patch given the same score is not."""
    photos, found = references
    canvas = Image.new("RGB", (1600, 800), GREY)
    canvas.paste(photos[2].resize((128, 128)), (100, 100))
    canvas.paste(photos[3].resize((128, 128)), (900, 400))
    strong = (np.array(found[2][0].box) / 2 + [100, 100, 100, 100], 0.9)
    weak_face = (np.array(found[3][0].box) / 2 + [900, 400, 900, 400], 0.72)
    weak_blank = (np.array([500.0, 500, 560, 560]), 0.72)
    faces = _merge([strong], canvas.size, detector.min_prob)
    confirmed = detector._confirmed(canvas, faces, [strong, weak_face, weak_blank])
    assert [face.box for face in confirmed] == [pytest.approx(tuple(weak_face[0]))]
    assert confirmed[0].prob >= detector.min_prob


@pytest.mark.parametrize(("content", "reason"), [(None, "face detector model file not found"),
                                                 (b"junk", "not a face detector model (onnxruntime cannot load")])
def test_a_missing_or_broken_detector_file_is_a_model_file_error_naming_it(tmp_path, content, reason):
    from glasses.weights import ModelFileError

    if content is not None:
        (tmp_path / SHORT_RANGE.file).write_bytes(content)
    with pytest.raises(ModelFileError, match=re.escape(reason)) as caught:
        BlazeFace(SHORT_RANGE, weights_dir=tmp_path)
    assert caught.value.path == tmp_path / SHORT_RANGE.file


def test_anchors_are_kept_for_the_last_few_canvas_shapes_only(network):
    from glasses.blazeface import KEPT_ANCHORS

    shapes = [(16 * (i + 1), 32) for i in range(KEPT_ANCHORS + 3)]
    for shape in shapes:
        anchors = network._anchors_of(shape)
        assert len(anchors) == len(anchor_centres(SHORT_RANGE, *shape))
    assert list(network._anchors) == shapes[-KEPT_ANCHORS:]
