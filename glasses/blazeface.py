"""BlazeFace (MediaPipe's face detector) on onnxruntime: square RGB canvases in, scored face boxes out.

The networks come from training/convert_detector.py (weights/blazeface_*.onnx, Apache-2.0). Each predicts, for
a fixed grid of anchors, a face logit and a box relative to its anchor; this module turns those into boxes the
way MediaPipe's own graph does (TensorsToDetectionsCalculator, then weighted non-maximum suppression), so that
the same canvas gives the same faces as MediaPipe. Where a canvas comes from and how its boxes map back onto a
photo is glasses/detect.py's business.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from glasses.weights import ModelFileError
from glasses.weights_folder import weights_folder

WEIGHTS_DIR = weights_folder()


@dataclass(frozen=True)
class Variant:
    """One BlazeFace network: its file, its input side, its anchors (the strides of its SSD layers and anchors
    per layer and cell, as MediaPipe's SsdAnchorsCalculator options give them) and MediaPipe's score threshold."""

    file: str
    side: int
    strides: tuple[int, ...]
    anchors_per_layer: int
    min_score: float


# mediapipe/modules/face_detection/face_detection_short_range.pbtxt
SHORT_RANGE = Variant("blazeface_short.onnx", 128, (8, 16, 16, 16), 2, 0.5)
_NMS_IOU = 0.3
KEPT_ANCHORS = 8
_MAX_LOGIT = 100.0


def anchor_centres(variant: Variant, height: int, width: int) -> np.ndarray:
    """(A, 2) anchor centres (x, y) in pixels of a `height` x `width` canvas, in the network's output order: by
    layer group of equal stride, then row, column, anchor. Consecutive layers of one stride share a grid, each
    adding its anchors to every cell. On the network's own square view these are MediaPipe's anchors."""
    centres = []
    strides = list(variant.strides)
    while strides:
        stride = strides[0]
        repeat = sum(1 for s in strides if s == stride)
        strides = strides[repeat:]
        rows, cols = -(-height // stride), -(-width // stride)
        ys, xs = np.meshgrid((np.arange(rows) + 0.5) * stride, (np.arange(cols) + 0.5) * stride, indexing="ij")
        grid = np.stack([xs, ys], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, repeat * variant.anchors_per_layer, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


@dataclass(frozen=True)
class CanvasFace:
    """A face on a canvas: box (x1, y1, x2, y2) in pixels of the canvas, the network's confidence, and its six
    key points (right eye, left eye, nose tip, mouth, right ear, left ear), (6, 2), in pixels of the canvas."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (x1, y1, x2, y2) with each of `others`, (N, 4)."""
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray,
                 overlap: float = _NMS_IOU) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe's WEIGHTED suppression: the best remaining box and every box whose IoU with it exceeds `overlap`
    become one face, whose box and key points are their score-weighted mean and whose score is the best's."""
    if len(scores) == 1:   # the common case of a lone candidate: nothing to merge
        return [(boxes[0], float(scores[0]), keypoints[0])]
    order = np.argsort(-scores)
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    faces = []
    remaining = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        members = remaining & (iou(boxes[i], boxes) > overlap)
        members[i] = True
        weights = scores[members][:, None]
        faces.append(((boxes[members] * weights).sum(0) / weights.sum(),
                      float(scores[i]),
                      (keypoints[members] * weights[:, :, None]).sum(0) / weights.sum()))
        remaining &= ~members
    return faces


class BlazeFace:
    """One BlazeFace network on onnxruntime. Called with a uint8 RGB canvas (H, W, 3) whose sides are multiples
    of the network's coarsest stride (16): its own square view, or any larger canvas (the network is fully
    convolutional). Two sessions share the file: one fixed to the square view, which onnxruntime plans ahead
    for (0.87 against 1.0 ms here), and one for canvases of any size."""

    def __init__(self, variant: Variant = SHORT_RANGE, threads: int = 1, weights_dir: Path = WEIGHTS_DIR,
                 min_score: float | None = None):
        from glasses.runtime import onnx_session

        path = Path(weights_dir) / variant.file
        if not path.is_file():
            raise ModelFileError(path, "face detector model file not found")
        self.variant = variant
        self.side = variant.side
        self.min_score = variant.min_score if min_score is None else min_score
        detector = "a face detector model"
        self._view = onnx_session(path, threads, fixed_dimensions={"N": 1, "H": self.side, "W": self.side},
                                  what=detector)
        self._any = onnx_session(path, threads, what=detector)
        self._input = self._any.get_inputs()[0].name
        self._anchors: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()   # by canvas shape, recent last
        self._min_logit = float(np.log(self.min_score / (1 - self.min_score)))

    def raw(self, canvas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network's outputs for one uint8 canvas: regressors (A, 16) and logits (A,)."""
        height, width = canvas.shape[:2]
        if height % 16 or width % 16:
            raise ValueError(f"canvas sides must be multiples of 16, got {width}x{height}")
        batch = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        batch *= 1 / 127.5
        batch -= 1
        session = self._view if (height, width) == (self.side, self.side) else self._any
        regressors, logits = session.run(None, {self._input: batch})
        return regressors[0], logits[0, :, 0]

    def __call__(self, canvas: np.ndarray) -> list[CanvasFace]:
        """Faces on the canvas, best first."""
        regressors, logits = self.raw(canvas)
        keep = np.clip(logits, -_MAX_LOGIT, _MAX_LOGIT) >= self._min_logit
        if not keep.any():
            return []
        shape = canvas.shape[:2]
        raw, anchors = regressors[keep], self._anchors_of(shape)[keep]
        scores = 1 / (1 + np.exp(-logits[keep].astype(np.float64)))
        centre = raw[:, :2] + anchors
        half = raw[:, 2:4] / 2
        boxes = np.concatenate([centre - half, centre + half], 1)
        keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None, :]
        return [CanvasFace(tuple(float(v) for v in box), score, points)
                for box, score, points in weighted_nms(boxes, scores, keypoints)]

    def _anchors_of(self, shape: tuple[int, int]) -> np.ndarray:
        """The anchors of a canvas shape, kept for the KEPT_ANCHORS shapes used last (a 2048 x 1536 canvas's
        take 1.4 MB and 5 ms to compute, against 100 ms for the network's run on it)."""
        if shape in self._anchors:
            self._anchors.move_to_end(shape)
        else:
            self._anchors[shape] = anchor_centres(self.variant, *shape)
            while len(self._anchors) > KEPT_ANCHORS:
                self._anchors.popitem(last=False)
        return self._anchors[shape]
