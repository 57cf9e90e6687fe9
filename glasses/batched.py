"""Predictor.predict_many's Predictions, with the classifier's crops batched across photos.

On a GPU one run of the classifier over 64 faces costs little more than over one, and a photo holds one or two
faces, so the per-photo path (Predictor.predict_many) leaves the GPU idle between tiny runs. Here a window of
photos is read and searched for faces first (on the CPU), then all their crops are classified together, in
runs of at most `batch_size`, and each photo's Prediction is made from its share of the answers.

Each face's probability is its own crop's (the classifier and the mirror pass answer each face alone), so the
rows are the per-photo path's; tests/test_batched.py checks that on the CPU, where this path runs too
(`glasses predict --batch-size N`). The steps are Predictor's own (load_image_scaled with its hold_side, the
detector, `_crops`, `classify`), in the order Predictor.predict_scaled takes them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from glasses.images import ImageError, ImageSource, ScaledImage, load_image_scaled
from glasses.prediction import FaceResult, Prediction
from glasses.predictor import ManyItem, Predictor, _name_of, _unexpected_reason

DEFAULT_BATCH = 64
DEFAULT_WINDOW = 32   # photos held at once: their decoded copies are what this path holds in memory


@dataclass
class _Searched:
    """A photo read and searched, waiting for its crops' answers."""

    name: str
    image: ImageSource
    scaled: ScaledImage
    faces: list
    boxes: list
    crops: list[Image.Image]


def predict_batched(predictor: Predictor, items: Iterable[ManyItem], batch_size: int = DEFAULT_BATCH,
                    show_side: int | None = None, window: int = DEFAULT_WINDOW,
                    unexpected: Callable[[str, Exception], str] = _unexpected_reason,
                    reading: Callable[[int], None] | None = None) -> Iterator[Prediction]:
    """What `predictor.predict_many(items, show_side, unexpected)` yields, in the same order, with the crops
    of up to `window` photos at a time classified in runs of at most `batch_size` faces (at most
    glasses.predictor.CLASSIFY_BATCH each, which bounds the activations one run holds). `reading(i)` is told
    before item i (its place in `items`) is read: a worker process says so, so that a decoder crashing it is
    blamed on that photo, not on the first of its window (glasses/parallel.py)."""
    if batch_size < 1 or window < 1:
        raise ValueError(f"batch_size and window must be positive, got {batch_size} and {window}")
    chunk: list = []
    for position, item in enumerate(items):
        if reading is not None:
            reading(position)
        chunk.append(_search(predictor, item, unexpected))
        if len(chunk) == window:
            yield from _finish(predictor, chunk, batch_size, show_side, unexpected)
            chunk = []
    yield from _finish(predictor, chunk, batch_size, show_side, unexpected)


def _search(predictor: Predictor, item: ManyItem, unexpected) -> _Searched | Prediction:
    """The photo read, its faces found and cut out; or its error Prediction, as predict_item makes it."""
    if isinstance(item, ImageError):
        return predictor.predict_item(item)
    name, image = item if isinstance(item, tuple) else (_name_of(item), item)
    try:
        image = image() if callable(image) else image
        scaled = load_image_scaled(image, predictor.hold_side, predictor.max_pixels)
        faces = predictor.detector.detect(scaled.image, scaled.full_size)
        boxes = [scaled.to_full(face.box) for face in faces]
        return _Searched(name, image, scaled, faces, boxes, predictor._crops(image, scaled, boxes))
    except ImageError as err:
        return predictor.predict_item(ImageError(name, err.reason))
    except Exception as err:  # noqa: BLE001 - one bad file never stops the batch
        return predictor.predict_item(ImageError(name, unexpected(name, err)))


def _finish(predictor: Predictor, chunk: list, batch_size: int, show_side: int | None,
            unexpected) -> Iterator[Prediction]:
    searched = [entry for entry in chunk if isinstance(entry, _Searched)]
    crops = [crop for entry in searched for crop in entry.crops]
    try:
        probs = _classify_all(predictor, crops, batch_size)
    except Exception:  # noqa: BLE001 - e.g. the GPU out of memory: each photo alone, so only those that fail fail
        probs = None
    start = 0
    for entry in chunk:
        if isinstance(entry, Prediction):
            yield entry
            continue
        mine = probs[start:start + len(entry.crops)] if probs is not None else None
        start += len(entry.crops)
        try:
            if mine is None:
                mine = _classify_all(predictor, entry.crops, batch_size)
            yield _prediction(predictor, entry, mine, show_side)
        except ImageError as err:
            yield predictor.predict_item(ImageError(entry.name, err.reason))
        except Exception as err:  # noqa: BLE001 - one bad file never stops the batch
            yield predictor.predict_item(ImageError(entry.name, unexpected(entry.name, err)))


def _classify_all(predictor: Predictor, crops: list[Image.Image], batch_size: int) -> np.ndarray:
    """P of each crop, classified in runs of at most `batch_size`."""
    if not crops:
        return np.zeros(0, np.float32)
    return np.concatenate([predictor.classify(crops[i:i + batch_size]) for i in range(0, len(crops), batch_size)])


def _prediction(predictor: Predictor, entry: _Searched, probs: np.ndarray, show_side: int | None) -> Prediction:
    """predict_scaled's and predict_image's last steps: the faces' results, and a copy to show where asked."""
    labels = predictor.labels
    results = tuple(FaceResult(box=tuple(int(round(v)) for v in box), face_prob=round(face.prob, 4),
                               prob=round(float(p), 4), label=labels.label_for(float(p), predictor.threshold),
                               labels=labels)
                    for face, box, p in zip(entry.faces, entry.boxes, probs))
    scaled = entry.scaled
    if show_side is not None and max(scaled.image.size) < min(show_side, max(scaled.full_size)):
        scaled = load_image_scaled(entry.image, predictor.show_hold(show_side), predictor.max_pixels)
    return Prediction(entry.name, entry.scaled.full_size, results, photo=None if show_side is None else scaled,
                      labels=labels)
