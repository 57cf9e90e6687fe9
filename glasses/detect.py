"""Find every face in a photo with BlazeFace (glasses/blazeface.py) over an image pyramid, on onnxruntime.

BlazeFace short-range was trained to see faces in a 128 x 128 view, and finds them there from about 16
pixels wide up to the whole view (measured on CelebA-HQ faces pasted onto canvases: 97% at 16 px, all from 20
to 112). Its network is fully convolutional, so it runs as well on a larger canvas, where each anchor still
looks at its own neighbourhood: one run over a 1280 x 960 canvas costs what 75 tiles of 128 would, with no
overlap to pay for. So a photo is searched at a few scales:

- the largest, where a face of `min_face_size` photo pixels is `CANVAS_FACE` pixels wide (capped so the canvas
  has at most `max_side` pixels on its longer side), finds the smallest faces;
- each next one `PYRAMID_STEP` times smaller, down to a canvas of 128, finds the larger ones;
- the last is the whole photo letterboxed into 128 x 128, as MediaPipe runs it: faces up to the whole photo.

A photo that is small for its faces (a 256-pixel portrait) needs only that last one. Where it finds nothing, a
second look pads the photo on every side: a face cropped tight fills more of the view than BlazeFace learnt.
Faces found at several scales are merged by weighted non-maximum suppression in photo pixels.
"""
from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from glasses.blazeface import SHORT_RANGE, BlazeFace, iou, weighted_nms
from glasses.config import DEFAULTS

# Images whose shorter side is below this cannot hold a face worth classifying.
MIN_IMAGE_SIDE = 16
CANVAS_FACE = 20        # canvas pixels a face of min_face_size gets at the largest scale (BlazeFace: all from 20)
PYRAMID_STEP = 4        # BlazeFace's range (16..128 px) spans 8x, so scales 4x apart overlap by 2x
_SECOND_LOOK_PADS = (0.25, 0.1, 0.4)  # of the longer side, on every side; the likeliest to find a face first
_INSIDE = 0.5           # share of a box's area inside a larger face from which it may be a part of it
_MULTIPLE = 16          # the network's coarsest stride: a canvas's sides are padded up to a multiple of it


@dataclass(frozen=True)
class Detection:
    """A face: its box (x1, y1, x2, y2) in pixels of the image given, and the detector's confidence."""

    box: tuple[float, float, float, float]
    prob: float

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return (x2 - x1) * (y2 - y1)


def default_threads() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class FaceDetector:
    """Every face in an RGB image, largest first.

    `min_face_size`: the smallest face looked for, in pixels of the photo; smaller faces need a larger canvas,
    which costs time in proportion to its area. `max_side`: the largest canvas side; in photos so large that
    `min_face_size` would need more, the smallest face found grows with the photo (CANVAS_FACE * longer side /
    max_side: 40 pixels for a 4096-pixel photo with the defaults).

    `min_prob`: faces scored below it are dropped. MediaPipe keeps BlazeFace's faces from 0.5, but over the many
    anchors of a large canvas that keeps false faces (stars in the Hubble deep field, a wheel of colours, an ear
    beside a face); none scored 0.75 on the scikit-image photos without people that bench/speed.py counts false
    faces on, and no true face of 20 group photos composed from CelebA-HQ portraits scored under it. Where no face reaches it, a second look (the photo padded, and mirrored) keeps faces from
    `second_look_prob`: CelebA-HQ's half-hidden faces and CMU's small grey ones score 0.5-0.75 in one view.
    Where faces do reach it, a candidate from `second_look_prob` is kept once a closer look at it reaches
    `min_prob` (a half-hidden face in a group photo).
    """

    def __init__(self, min_face_size: int = DEFAULTS.min_face_size, max_side: int = DEFAULTS.max_side,
                 min_prob: float = 0.75, second_look_prob: float = 0.7, threads: int | None = None):
        if min_face_size < 12:
            raise ValueError(f"min_face_size must be at least 12 pixels, got {min_face_size}")
        if max_side < SHORT_RANGE.side:
            raise ValueError(f"max_side must be at least {SHORT_RANGE.side} pixels, got {max_side}")
        for name, value in (("min_prob", min_prob), ("second_look_prob", second_look_prob)):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.min_prob = min_prob
        self.second_look_prob = second_look_prob
        self.network = BlazeFace(SHORT_RANGE, threads=threads or default_threads(),
                                 min_score=min(min_prob, second_look_prob))

    def scales(self, size: tuple[int, int], held: float = 1.0) -> list[float]:
        """The canvas scales of the pyramid for an image of `size` (whose pixels are `held` photo pixels each),
        largest first, before the whole-photo view. Empty when the whole-photo view alone sees min_face_size."""
        longer = max(size)
        view = SHORT_RANGE.side / longer
        largest = min(CANVAS_FACE / (self.min_face_size * held), self.max_side / longer)
        scales = []
        scale = largest
        while scale > view * 1.25:  # a canvas barely larger than the whole-photo view adds nothing
            scales.append(scale)
            scale /= PYRAMID_STEP
        return scales

    def detect(self, image: Image.Image, full_size: tuple[int, int] | None = None) -> list[Detection]:
        """`full_size`: where `image` is a reduced copy of a photo (glasses.images.ScaledImage), the photo's size,
        so that `min_face_size` counts pixels of the photo, as it does for a photo given whole. Boxes are in
        pixels of `image` either way."""
        if min(image.size) < MIN_IMAGE_SIDE:
            return []
        image = image if image.mode == "RGB" else image.convert("RGB")
        held = max(image.size) / max(full_size) if full_size else 1.0   # pixels of `image` per pixel of the photo
        found = []
        view = image
        for scale in self.scales(image.size, held):   # largest first: each canvas is cut from the one before
            size = (round(image.width * scale), round(image.height * scale))
            if min(size) < MIN_IMAGE_SIDE:   # a strip (20000 x 16) thinner than a face here, and at every
                break                        # smaller scale: the whole-photo view still looks at it
            view = _scaled(view, size)
            found += self._on_canvas(view, image.size)
        found += self._whole(view, image.size, pad=0)
        faces = _merge(found, image.size, self.min_prob)
        if faces and any(self.second_look_prob <= score < self.min_prob for _, score in found):
            faces += self._confirmed(image, faces, found)
        for view in () if faces else self._second_look(image):
            faces = _merge(view, image.size, self.second_look_prob)
            if faces:
                break
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def _confirmed(self, image: Image.Image, faces: list[Detection],
                   found: list[tuple[np.ndarray, float]]) -> list[Detection]:
        """Faces of a photo that has faces, which scored from second_look_prob but under min_prob where first
        seen (a face half hidden in a group), each confirmed by a closer look: the box's neighbourhood (twice its
        side) in the network's own view, as it is and mirrored, must score min_prob. A face-like pattern seen
        closer stays under it."""
        confirmed = []
        for candidate in _merge(found, image.size, self.second_look_prob):
            box = np.array(candidate.box)
            if candidate.prob >= self.min_prob or any(_iou(box, face.box) > 0 for face in faces):
                continue
            centre, side = (box[:2] + box[2:]) / 2, 2 * _side(box)
            region = tuple(int(round(v)) for v in (*(centre - side / 2), *(centre + side / 2)))
            close = image.crop(region)
            for view, mirrored in ((close, False), (ImageOps.mirror(close), True)):
                scores = [score for near, score in self._whole(view, view.size, pad=0)
                          if _iou(_mirrored(near, view.width) if mirrored else near,
                                  box - [region[0], region[1]] * 2) > 0.3 and score >= self.min_prob]
                if scores:
                    confirmed.append(Detection(candidate.box, round(max(scores), 6)))
                    break
        return confirmed

    def largest_canvas_side(self, size: tuple[int, int]) -> int:
        """The longer side of the largest canvas a photo of `size` is searched on (what reading it must keep)."""
        scales = self.scales(size)
        return round(max(size) * scales[0]) if scales else SHORT_RANGE.side

    def _second_look(self, image: Image.Image) -> Iterator[list[tuple[np.ndarray, float]]]:
        """The faces of each of the whole image's other views, one view at a time, until one holds a face: padded
        by each of _SECOND_LOOK_PADS, as it is and mirrored. BlazeFace's score for a face half hidden or cropped
        tight swings by 0.2 between such views, where a face-like pattern's stays low."""
        mirrored = ImageOps.mirror(image)
        for share in _SECOND_LOOK_PADS:
            pad = round(share * max(image.size))
            yield self._whole(image, image.size, pad)
            yield [(_mirrored(box, image.width), score) for box, score in self._whole(mirrored, image.size, pad)]

    def _on_canvas(self, view: Image.Image, size: tuple[int, int]) -> list[tuple[np.ndarray, float]]:
        """Faces on `view`, the image (of `size`) scaled, padded to whole strides: (box in image pixels, score)."""
        canvas = np.zeros((_round_up(view.height), _round_up(view.width), 3), np.uint8)
        canvas[:view.height, :view.width] = np.asarray(view)
        sx, sy = size[0] / view.width, size[1] / view.height
        return [(np.array(face.box) * [sx, sy, sx, sy], face.score) for face in self.network(canvas)]

    def _whole(self, view: Image.Image, size: tuple[int, int], pad: int) -> list[tuple[np.ndarray, float]]:
        """Faces on the whole image (of `size`; `view` is it, or a copy scaled down), padded by `pad` image
        pixels of black on every side, letterboxed into the network's square view as MediaPipe does."""
        side = SHORT_RANGE.side
        scale = side / (max(size) + 2 * pad)
        inner = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        left, top = (side - inner[0]) // 2, (side - inner[1]) // 2
        canvas = np.zeros((side, side, 3), np.uint8)
        canvas[top:top + inner[1], left:left + inner[0]] = np.asarray(_scaled(view, inner))
        sx, sy = size[0] / inner[0], size[1] / inner[1]
        offset = np.array([left * sx, top * sy] * 2)
        return [(np.array(face.box) * [sx, sy, sx, sy] - offset, face.score) for face in self.network(canvas)]


def _scaled(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` at `size`. Shrinking by a whole factor averages blocks of pixels (Image.reduce: a 256-pixel
    portrait to the 128-pixel view in a sixth of a bilinear resize's time); by another factor of 2 or more,
    that first and then a bilinear resize for the rest (Pillow's reducing_gap): as good for a detector."""
    if image.size == size:
        return image
    factor = image.width // size[0]
    if factor > 1 and image.width == factor * size[0] and image.height == factor * size[1]:
        return image.reduce(factor)
    return image.resize(size, Image.BILINEAR, reducing_gap=2.0)


def _round_up(length: int) -> int:
    return max(_MULTIPLE, math.ceil(length / _MULTIPLE) * _MULTIPLE)


def _merge(found: list[tuple[np.ndarray, float]], size: tuple[int, int], min_prob: float) -> list[Detection]:
    """One Detection per face seen at one or more scales, scored at least `min_prob`, its box clipped to the
    image; a box that is a part of a larger face (_part_of) is dropped."""
    found = [(box, score) for box, score in found if score >= min_prob]
    if not found:
        return []
    boxes = np.stack([box for box, _ in found])
    scores = np.array([score for _, score in found])
    width, height = size
    merged = sorted(((np.clip(box, 0, [width, height, width, height]), score)
                     for box, score, _ in weighted_nms(boxes, scores, np.zeros((len(found), 0, 2)))),
                    key=lambda face: -_area(face[0]))
    faces: list[Detection] = []
    for box, score in merged:
        if _area(box) < 1 or any(_part_of(box, score, face) for face in faces):
            continue
        faces.append(Detection(box=tuple(float(v) for v in box), prob=round(float(score), 6)))
    return faces


def _area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0) * max(box[3] - box[1], 0))


def _part_of(box: np.ndarray, score: float, face: Detection) -> bool:
    """Whether `box` is a part of `face` seen as a face of its own (an eye, a mouth): mostly inside it, at most
    half its size, and scored no higher. A face scored higher than a large box around it is a face of its own: a
    false box over a group photo must not hide the group."""
    return (_inside(box, np.array(face.box)) > _INSIDE and 2 * _side(box) <= _side(face.box)
            and score <= face.prob)


def _mirrored(box: np.ndarray, width: int) -> np.ndarray:
    return np.array([width - box[2], box[1], width - box[0], box[3]])


def _iou(box: np.ndarray, other) -> float:
    return float(iou(np.asarray(box, float), np.asarray(other, float)[None])[0])


def _side(box) -> float:
    return float(max(box[2] - box[0], box[3] - box[1]))


def _inside(box: np.ndarray, larger: np.ndarray) -> float:
    """The share of `box`'s area that lies inside `larger`."""
    x1, y1 = np.maximum(box[:2], larger[:2])
    x2, y2 = np.minimum(box[2:], larger[2:])
    return max(x2 - x1, 0) * max(y2 - y1, 0) / max(_area(box), 1e-9)
