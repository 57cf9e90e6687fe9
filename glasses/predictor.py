"""The Python API that the CLI, the app and training share: image in, one FaceResult per face out, or one
Prediction per image (glasses/prediction.py) for callers that report whole images."""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from glasses.config import DEFAULTS
from glasses.crop import as_batch, crop_face
from glasses.detect import MIN_IMAGE_SIDE, FaceDetector, default_threads
from glasses.images import DEFAULT_MAX_PIXELS, ImageError, ImageSource, ScaledImage, load_image_scaled
from glasses.mirror import glasses_probs
from glasses.labels import LabelNames
from glasses.prediction import FaceResult, Prediction
from glasses.runtime import load_classifier
from glasses.weights import DEFAULT_WEIGHTS

CLASSIFY_BATCH = 64
# What Predictor.predict_many takes: an image, (name, image or a function reading it), or an ImageError.
ManyItem = ImageSource | tuple[str, ImageSource | Callable[[], ImageSource]] | ImageError


T = TypeVar("T")


@dataclass(frozen=True)
class Found:
    """One photo searched (Predictor.search): the copy read, its faces, their boxes in pixels of the full image,
    and their crops for the classifier."""

    scaled: ScaledImage
    faces: list
    boxes: list[tuple[float, float, float, float]]
    crops: list[Image.Image]


def _name_of(image: ImageSource) -> str:
    """How results name an image given without a name: its path as given, else "image"."""
    return os.fspath(image) if isinstance(image, (str, os.PathLike)) else "image"


def _unexpected_reason(name: str, err: Exception) -> str:
    return f"unexpected error: {type(err).__name__}: {err}"


class Predictor:
    """Detects every face and tells for each whether glasses are worn, on onnxruntime alone (or, for a model
    trained on another attribute, whether that attribute shows: `labels` are the model file's names for its two
    answers, glasses/labels.py).

    `weights`: the model file, an ONNX export (a .pt is run through the export beside it: glasses/weights.py).
    `threshold=None` takes the one recorded with the model (chosen on validation data). `min_face_size` and
    `max_side` are the detector's (glasses/detect.py): the smallest face looked for, in photo pixels, and the
    largest canvas it searches. `threads`: CPU cores for onnxruntime (default: all this process may use).
    `device`: "cpu", or "cuda" for the classifier on an NVIDIA GPU (onnxruntime-gpu's CUDAExecutionProvider;
    glasses.runtime.DeviceError, saying what to install, where there is none: never a silent fall back).
    `backend` is taken for callers that name it: "auto"/"onnx" is all there is. glasses.batched classifies
    the crops of many photos together, which is what a GPU wants.

    A photo is read at no more than it is worth (glasses.images.load_image_scaled): reduced by a whole factor,
    or by libjpeg's 1/2, 1/4, 1/8, as long as its longer side keeps what the detector's largest canvas needs
    (`hold_side`): a 12-megapixel JPEG is decoded at half size, and so is a 256-pixel portrait, whose face
    needs only the detector's 128-pixel view. Faces are cut from that copy while each spans at least the
    classifier's input there; when one is smaller, the photo is read again at the scale it needs (at most full
    size) for the crops. Boxes are always in pixels of the full image as a viewer shows it.
    """

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, device: str = "cpu", threshold: float | None = None,
                 min_face_size: int = DEFAULTS.min_face_size, max_side: int = DEFAULTS.max_side,
                 max_pixels: int = DEFAULT_MAX_PIXELS,
                 backend: str = "auto", threads: int | None = None):
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be a positive number, got {threads}")
        threads = threads or default_threads()
        self.classifier = load_classifier(Path(weights), threads, device, backend)
        config = self.classifier.config
        self.backend = self.classifier.name
        self.input_size = config["input_size"]
        self.crop_margin = config["crop_margin"]
        self.threshold = config["threshold"] if threshold is None else threshold
        self.mirror_band = config["mirror_band"]
        self.labels: LabelNames = config["label_names"]
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        self.max_pixels = max_pixels
        self.detector = FaceDetector(min_face_size=min_face_size, max_side=max_side, threads=threads)

    def hold_side(self, size: tuple[int, int]) -> int:
        """The longer side a photo of `size` is held at: what the detector's largest canvas needs (at least its
        128-pixel view), and enough to keep its shorter side at MIN_IMAGE_SIDE, so that a strip (5000 x 16) is
        not reduced below what the detector looks at. A portrait's face spans the classifier's input in a copy
        held at half size (CelebA-HQ's 256-pixel photos: all but 2 in 100), and such a read takes half the
        time of a full one."""
        strip = math.ceil(MIN_IMAGE_SIDE * max(size) / max(min(size), 1))
        return max(self.detector.largest_canvas_side(size), min(strip, max(size)))

    def show_hold(self, show_side: int):
        """`at_least` for load_image_scaled that holds a photo as `hold_side` does and, where it has them, at
        least `show_side` pixels on its longer side: for a caller that also shows the copy (an overlay)."""
        return lambda size: max(self.hold_side(size), min(show_side, max(size)))

    def predict(self, image: ImageSource) -> list[FaceResult]:
        """Faces in `image` (path, bytes, PIL image or array), largest first; [] when none is found.

        Raises glasses.ImageError, with a reason a person understands, when the image cannot be read.
        """
        return self.predict_scaled(image)[1]

    def predict_scaled(self, image: ImageSource, show_side: int = 0) -> tuple[ScaledImage, list[FaceResult]]:
        """`predict`, with a copy of the photo to show: `full_size` is the photo's size as a viewer shows it (the
        boxes' frame), `image` the photo at no less than `hold_side(full_size)` pixels on its longer side, and
        no less than `show_side` where the photo has them; `from_full` maps the boxes onto it, e.g. to draw them.

        The faces never depend on `show_side`: they are found and classified on the copy `hold_side` reads,
        and a photo that copy is too small to show is read again for showing, so that the app, the REST route
        and the CLI give one photo the same answer."""
        found = self.search(image)
        return self.results(image, found, self.classify(found.crops), show_side)

    def search(self, image: ImageSource) -> "Found":
        """predict_scaled's first half: the photo read at `hold_side`, its faces, their boxes in pixels of the
        full image, and the classifier's crop of each (glasses.batched classifies many photos' crops at once)."""
        scaled = load_image_scaled(image, self.hold_side, self.max_pixels)
        faces = self.detector.detect(scaled.image, scaled.full_size)
        boxes = [scaled.to_full(face.box) for face in faces]
        return Found(scaled, faces, boxes, self._crops(image, scaled, boxes))

    def results(self, image: ImageSource, found: "Found", probs: np.ndarray,
                show_side: int = 0) -> tuple[ScaledImage, list[FaceResult]]:
        """predict_scaled's second half: each face of `found` with its probability of `probs`, labelled at this
        Predictor's threshold, and the copy to show (read again where `found`'s is too small for `show_side`)."""
        results = [FaceResult(box=tuple(int(round(v)) for v in box), face_prob=round(face.prob, 4),
                              prob=round(float(p), 4), label=self.labels.label_for(float(p), self.threshold),
                              labels=self.labels)
                   for face, box, p in zip(found.faces, found.boxes, probs)]
        scaled = found.scaled
        if max(scaled.image.size) < min(show_side, max(scaled.full_size)):
            scaled = load_image_scaled(image, self.show_hold(show_side), self.max_pixels)
        return scaled, results

    def predict_image(self, image: ImageSource, name: str | None = None,
                      show_side: int | None = None) -> Prediction:
        """The Prediction for one image: its faces and its size as a viewer shows it. `name` is how results name
        it (default: the path as given, or "image"). With `show_side`, the Prediction keeps the copy it read
        (`photo`, held at no less than `show_side` pixels where the image has them) to draw the faces on.

        Raises glasses.ImageError, naming `name`, when the image cannot be read."""
        name = _name_of(image) if name is None else name
        try:
            scaled, faces = self.predict_scaled(image, show_side or 0)
        except ImageError as err:
            raise ImageError(name, err.reason) from None
        return self.prediction(name, scaled, faces, show_side)

    def prediction(self, name: str, scaled: ScaledImage, faces: list[FaceResult],
                   show_side: int | None) -> Prediction:
        """The Prediction of `name`'s faces, keeping `scaled` as its photo where `show_side` asked for one."""
        return Prediction(name, scaled.full_size, tuple(faces), photo=None if show_side is None else scaled,
                          labels=self.labels)

    def predict_many(self, images: Iterable[ManyItem], show_side: int | None = None,
                     unexpected: Callable[[str, Exception], str] = _unexpected_reason) -> Iterator[Prediction]:
        """One Prediction per item of `images`, in their order, each yielded as soon as it is made, so that
        a caller writes results as they come and holds one photo at a time.

        An item is an image (as `predict` takes it), a pair (name, image), where the image may also be a
        function that reads it when its turn comes (a zip member), or an ImageError (an input that was found
        unusable before: a folder that could not be listed), which is yielded as it is. An image that cannot be
        read is a Prediction with its `error`, and the next one is still predicted: one bad file never stops
        the batch. Any other failure of one image is too, its reason written by `unexpected(name, error)`."""
        for item in images:
            yield self.predict_item(item, show_side, unexpected)

    def predict_item(self, item: ManyItem, show_side: int | None = None,
                     unexpected: Callable[[str, Exception], str] = _unexpected_reason) -> Prediction:
        """predict_many's Prediction for one of its items (for callers that schedule items themselves)."""
        return self.guarded(item, lambda name, image: self.predict_image(image, name, show_side), unexpected)

    def guarded(self, item: ManyItem, work: Callable[[str, ImageSource], T],
                unexpected: Callable[[str, Exception], str] = _unexpected_reason) -> T | Prediction:
        """`work(name, image)` for one of predict_many's items (its image read where it is a function), or the
        Prediction of its error: the item's own ImageError, one the work raises, or any other failure, in
        `unexpected`'s words. One bad file never stops the batch."""
        if isinstance(item, ImageError):
            return Prediction.failed(item.source, item.reason, self.labels)
        name, image = item if isinstance(item, tuple) else (_name_of(item), item)
        try:
            return work(name, image() if callable(image) else image)
        except ImageError as err:
            return Prediction.failed(name, err.reason, self.labels)
        except Exception as err:  # noqa: BLE001 - one bad file never stops the batch
            return Prediction.failed(name, unexpected(name, err), self.labels)

    def _crops(self, source: ImageSource, scaled: ScaledImage,
               boxes: list[tuple[float, float, float, float]]) -> list[Image.Image]:
        """The classifier's crop of each box (in pixels of the full image), cut from `scaled` when every crop
        spans at least the classifier's input there, else from `source` read again at the scale the smallest
        crop needs, so that no crop is enlarged that the full image would have shrunk."""
        if not boxes:
            return []
        if scaled.reduced:
            smallest = min(max(x2 - x1, y2 - y1) for x1, y1, x2, y2 in boxes) * (1 + self.crop_margin)
            if smallest * scaled.scale < self.input_size:
                wanted = math.ceil(max(scaled.full_size) * self.input_size / max(smallest, 1.0))
                scaled = load_image_scaled(source, wanted, self.max_pixels)
        return [crop_face(scaled.image, scaled.from_full(box), self.input_size, self.crop_margin) for box in boxes]

    def classify(self, crops: list[Image.Image]) -> np.ndarray:
        """P(glasses) for face crops made by glasses.crop.crop_face at this model's size and margin, mirror-averaged
        near this Predictor's threshold as the model file says (glasses.mirror)."""
        if not crops:
            return np.zeros(0, np.float32)
        # In batches of at most CLASSIFY_BATCH faces: each face's answer is its own, and one batch of a crowd's
        # 1200 faces held 1.6 GB of activations.
        return np.concatenate([
            glasses_probs(self.classifier, as_batch(np.stack([np.asarray(c.convert("RGB")) for c in part])),
                          self.threshold, self.mirror_band)
            for part in (crops[i:i + CLASSIFY_BATCH] for i in range(0, len(crops), CLASSIFY_BATCH))])
