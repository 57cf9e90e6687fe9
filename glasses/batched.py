"""Predictor.predict_many's Predictions, with the classifier's crops batched across photos.

On a GPU one run of the classifier over 64 faces costs little more than over one, and a photo holds one or two
faces, so the per-photo path (Predictor.predict_many) leaves the GPU idle between tiny runs. Here a window of
photos is read and searched for faces first (on the CPU), then all their crops are classified together, in
runs of at most `batch_size`, and each photo's Prediction is made from its share of the answers.

Each face's probability is its own crop's (the classifier and the mirror pass answer each face alone), so the
rows are the per-photo path's; tests/test_batched.py checks that on the CPU, where this path runs too
(`glasses predict --batch-size N`). The steps are Predictor's own: `search`, `classify`, `results`, in the order
Predictor.predict_scaled takes them, each photo's errors caught by `guarded` as predict_many catches them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from glasses.images import ImageSource
from glasses.prediction import Prediction
from glasses.predictor import Found, ManyItem, Predictor, _unexpected_reason

DEFAULT_BATCH = 64
DEFAULT_WINDOW = 32   # photos held at once: their decoded copies are what this path holds in memory


@dataclass
class _Searched:
    """A photo read and searched, waiting for its crops' answers."""

    name: str
    image: ImageSource
    found: Found


def predict_batched(predictor: Predictor, items: Iterable[ManyItem], batch_size: int = DEFAULT_BATCH,
                    show_side: int | None = None, window: int = DEFAULT_WINDOW,
                    unexpected: Callable[[str, Exception], str] = _unexpected_reason) -> Iterator[Prediction]:
    """What `predictor.predict_many(items, show_side, unexpected)` yields, in the same order, with the crops
    of up to `window` photos at a time classified in runs of at most `batch_size` faces (at most
    glasses.predictor.CLASSIFY_BATCH each, which bounds the activations one run holds). Each item is taken from
    `items` just before its photo is read, so that a worker process that marks the item it hands over knows
    which photo a decoder crashed on (glasses/parallel.py)."""
    if batch_size < 1 or window < 1:
        raise ValueError(f"batch_size and window must be positive, got {batch_size} and {window}")
    chunk: list = []
    for item in items:
        chunk.append(predictor.guarded(item, lambda name, image: _Searched(name, image, predictor.search(image)),
                                       unexpected))
        if len(chunk) == window:
            yield from _finish(predictor, chunk, batch_size, show_side, unexpected)
            chunk = []
    yield from _finish(predictor, chunk, batch_size, show_side, unexpected)


def _finish(predictor: Predictor, chunk: list, batch_size: int, show_side: int | None,
            unexpected) -> Iterator[Prediction]:
    crops = [crop for entry in chunk if isinstance(entry, _Searched) for crop in entry.found.crops]
    try:
        probs = _classify_all(predictor, crops, batch_size)
    except Exception:  # noqa: BLE001 - e.g. the GPU out of memory: each photo alone, so only those that fail fail
        probs = None
    start = 0
    for entry in chunk:
        if isinstance(entry, Prediction):
            yield entry
            continue
        mine = probs[start:start + len(entry.found.crops)] if probs is not None else None
        start += len(entry.found.crops)
        yield predictor.guarded((entry.name, entry.image),
                                lambda name, image: _prediction(predictor, name, image, entry.found, mine,
                                                                batch_size, show_side), unexpected)


def _prediction(predictor: Predictor, name: str, image: ImageSource, found: Found, probs: np.ndarray | None,
                batch_size: int, show_side: int | None) -> Prediction:
    """predict_image's last steps for a searched photo, its crops classified alone where `probs` is None."""
    if probs is None:
        probs = _classify_all(predictor, found.crops, batch_size)
    scaled, faces = predictor.results(image, found, probs, show_side or 0)
    return predictor.prediction(name, scaled, faces, show_side)


def _classify_all(predictor: Predictor, crops: list[Image.Image], batch_size: int) -> np.ndarray:
    """P of each crop, classified in runs of at most `batch_size`."""
    if not crops:
        return np.zeros(0, np.float32)
    return np.concatenate([predictor.classify(crops[i:i + batch_size]) for i in range(0, len(crops), batch_size)])
