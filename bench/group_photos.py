"""Group photos composed from single-face portraits, with their face boxes, for measuring recall by face size.

A real group photo with every face boxed is not in ../shared/data, so the bench makes them: CelebA-HQ
portraits pasted, scaled so that their face has a chosen width, onto a canvas of a chosen size over a smooth
background with noise. The ground-truth box of each face is MTCNN's box on the portrait (facenet-pytorch's
defaults, training/mtcnn_detector.py), scaled and moved with it. A detection matches a face when its
centre lies inside the face's box and its width is within half to twice the box's: the two detectors draw
their boxes differently (BlazeFace's is squarer and reaches higher), and that is not a miss.

Only portraits in which MTCNN finds exactly one face are used (`load_portraits`, with
training/mtcnn_detector.FaceDetector()), so the truth holds one face per portrait.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

FACE_WIDTHS = (40, 60, 80, 120, 160, 240, 400)
CANVASES = ((1732, 1155), (3000, 2000), (4000, 3000))   # 2, 6 and 12 megapixels
MAX_FACES = 12


@dataclass
class Portrait:
    image: Image.Image
    box: tuple[float, float, float, float]   # the one face, in pixels of `image`


@dataclass
class GroupPhoto:
    image: Image.Image
    boxes: list[tuple[float, float, float, float]]
    face_width: int


def background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth two-colour gradient with mild noise: something for a detector to look at that holds no face."""
    width, height = size
    a, b = rng.integers(40, 215, 3), rng.integers(40, 215, 3)
    ramp = np.linspace(0, 1, width, dtype=np.float32)[None, :, None]
    pixels = a + (b - a) * ramp + rng.normal(0, 6, (height, 1, 3)).astype(np.float32)
    return np.clip(np.broadcast_to(pixels, (height, width, 3)), 0, 255).astype(np.uint8)


def compose(portraits: list[Portrait], canvas: tuple[int, int], face_width: int,
            rng: np.random.Generator) -> GroupPhoto:
    """Up to MAX_FACES portraits, each scaled so its face is `face_width` pixels wide, on a grid of `canvas`."""
    image = Image.fromarray(background(canvas, rng))
    scaled = []
    for portrait in portraits:
        x1, _, x2, _ = portrait.box
        scale = face_width / (x2 - x1)
        scaled.append((portrait, scale, portrait.image.resize(
            (max(1, round(portrait.image.width * scale)), max(1, round(portrait.image.height * scale))),
            Image.BILINEAR)))
    cell = max(max(s.width, s.height) for _, _, s in scaled) + face_width // 2
    columns, rows = max(1, canvas[0] // cell), max(1, canvas[1] // cell)
    cells = rng.permutation(columns * rows)[:min(MAX_FACES, len(scaled), columns * rows)]
    boxes = []
    for (portrait, scale, small), index in zip(scaled, cells):
        left = (index % columns) * cell + int(rng.integers(0, cell - small.width + 1))
        top = (index // columns) * cell + int(rng.integers(0, cell - small.height + 1))
        if left + small.width > canvas[0] or top + small.height > canvas[1]:
            continue
        image.paste(small, (left, top))
        x1, y1, x2, y2 = portrait.box
        boxes.append((left + x1 * scale, top + y1 * scale, left + x2 * scale, top + y2 * scale))
    return GroupPhoto(image, boxes, face_width)


def matched(truth: list[tuple[float, float, float, float]], found: list[tuple[float, float, float, float]]) -> int:
    """How many true faces some found box matches (each found box matches at most one face)."""
    used = set()
    hits = 0
    for x1, y1, x2, y2 in truth:
        width = x2 - x1
        for i, (a1, b1, a2, b2) in enumerate(found):
            cx, cy = (a1 + a2) / 2, (b1 + b2) / 2
            if i not in used and x1 <= cx <= x2 and y1 <= cy <= y2 and width / 2 <= a2 - a1 <= width * 2:
                used.add(i)
                hits += 1
                break
    return hits


def load_portraits(paths, detector) -> tuple[list[Portrait], int]:
    """The portraits among `paths` in which `detector` (training/mtcnn_detector.FaceDetector: the truth is
    MTCNN's box) finds exactly one face, and how many photos were left out for finding none or several."""
    from glasses.images import load_image

    portraits, left_out = [], 0
    for path in paths:
        image = load_image(path)
        faces = detector.detect(image)
        if len(faces) == 1:
            portraits.append(Portrait(image, faces[0].box))
        else:
            left_out += 1
    return portraits, left_out


def fits(face_width: int, canvas: tuple[int, int]) -> bool:
    """Whether faces of `face_width` fit on `canvas` at least two by two (a portrait is about twice its face)."""
    return face_width * 4 <= min(canvas)


def pick(portraits: list[Portrait], rng: np.random.Generator) -> list[Portrait]:
    """MAX_FACES different portraits (all of them when there are fewer)."""
    chosen = rng.choice(len(portraits), min(MAX_FACES, len(portraits)), replace=False)
    return [portraits[i] for i in chosen]


def group_photos(portraits: list[Portrait], per_size: int, seed: int = 0) -> list[GroupPhoto]:
    """`per_size` photos for every face width and canvas where that width fits at least two faces."""
    rng = np.random.default_rng(seed)
    photos = []
    for face_width in FACE_WIDTHS:
        for canvas in CANVASES:
            if not fits(face_width, canvas):
                continue
            for _ in range(per_size):
                photos.append(compose(pick(portraits, rng), canvas, face_width, rng))
    return photos


def megapixels(photo: GroupPhoto) -> float:
    return math.prod(photo.image.size) / 1e6


def false_detections(truth: list[tuple[float, float, float, float]],
                     found: list[tuple[float, float, float, float]]) -> int:
    """Found boxes that match no true face (`matched`'s rule): false faces, or one face found twice."""
    return len(found) - matched(truth, found)
