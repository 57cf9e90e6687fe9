"""One Predictor for the whole app (REST route and every tab), loaded once and used by one request at a time.

The Predictor is not documented as thread-safe, and on a small CPU two photos at once are no faster than one
after the other; one worker thread makes every call, so concurrent visitors form a queue. Decoding happens there
too, so that many large uploads at once cannot each hold a decoded 50-megapixel image in memory.

One dedicated thread, rather than a lock taken by whichever server thread a request runs on, keeps the app's
memory flat: glibc's malloc gives each thread that allocates an arena of its own and keeps what is freed there
for reuse, so model work spread over Starlette's 40 pool threads leaves up to 40 arenas' worth of decoded photos
and detector tensors behind for good. bench/load.py, three bursts of 50 concurrent twelve-megapixel uploads to
the REST route: from 0.85 GB to 4.1-4.3 GB after each burst that way, to 0.93 GB this way. After each call the
heap is trimmed too.
"""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, TypeVar

from glasses import FaceResult, ImageError, Prediction, Predictor
from glasses.images import ImageSource, ScaledImage, load_image_scaled
from glasses.labels import LabelNames
from glasses.predictor import ManyItem
from webapp.limits import MAX_SIDE, MIN_FACE_SIZE, WEB_MAX_PIXELS

T = TypeVar("T")
# Longer side, in pixels, that a photo shown with its boxes is held at where it has them: a screen shows no more,
# and the detector alone would hold a portrait at half size.
SHOWN_SIDE = 1024

# What a visitor reads when classifying their file failed in a way the library does not foresee; the
# exception, which may name server paths or Python internals, goes to the server log instead.
UNEXPECTED_ERROR = "unexpected error while classifying this file (the server log has the details)"


class SharedPredictor:
    """Duck-types glasses.Predictor (`predict`, `predict_many`, `threshold`) for the tabs, adding `classify` (and
    `classify_async` for async routes): a Prediction that keeps the photo, held at SHOWN_SIDE, to draw the
    faces on. Every call runs on the one worker thread, one at a time."""

    def __init__(self, predictor: Predictor, weights: Path):
        self.predictor = predictor
        self.weights = Path(weights)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="predictor")
        self._worker_thread: threading.Thread | None = None

    @classmethod
    def load(cls, weights: Path, max_pixels: int = WEB_MAX_PIXELS) -> "SharedPredictor":
        """The app's model: photos over `max_pixels` are refused before they are decoded; the detector looks
        for faces as webapp/limits.py says."""
        return cls(Predictor(weights, min_face_size=MIN_FACE_SIZE, max_side=MAX_SIDE, max_pixels=max_pixels),
                   weights)

    @property
    def threshold(self) -> float:
        return self.predictor.threshold

    @property
    def labels(self) -> LabelNames:
        """The model's names for its two answers (glasses / no_glasses for the shipped model)."""
        return self.predictor.labels

    def predict(self, image: ImageSource) -> list[FaceResult]:
        return self._run(self.predictor.predict, image)

    def predict_many(self, items: Iterable[ManyItem], unexpected: Callable[[str, Exception], str],
                     show_side: int | None = None) -> Iterator[Prediction]:
        """Predictor.predict_many, each item on the worker thread in its turn, so that other visitors' photos go
        between one batch's."""
        for item in items:
            yield self._run(self.predictor.predict_item, item, show_side, unexpected)

    def classify(self, source: ImageSource, name: str) -> Prediction:
        """Read `source` and find its faces; an unreadable one raises ImageError naming `name`, not a temp path."""
        return self._run(self._classify, source, name)

    async def classify_async(self, source: ImageSource | BinaryIO, name: str) -> Prediction:
        """`classify` for the event loop: it waits for the worker without holding a thread of its own. `source`
        may also be an open binary file (an upload), read from its start on the worker, so that its bytes are in
        memory only while it is classified, not while it waits its turn."""
        return await asyncio.wrap_future(self._submit(self._classify, source, name))

    def read(self, source: ImageSource, name: str) -> ScaledImage:
        """The photo as `classify` holds it, without the model (the Classify tab re-draws a photo with its
        faces relabelled); an unreadable one raises ImageError naming `name`."""
        return self._run(self._read, source, name)

    def _read(self, source: ImageSource, name: str) -> ScaledImage:
        try:
            return load_image_scaled(source, self.predictor.show_hold(SHOWN_SIDE), self.predictor.max_pixels)
        except ImageError as err:
            raise ImageError(name, err.reason) from None

    def _classify(self, source: ImageSource | BinaryIO, name: str) -> Prediction:
        if hasattr(source, "read"):
            source.seek(0)
            source = source.read()
        return self.predictor.predict_image(source, name, SHOWN_SIDE)

    def _run(self, work: Callable[..., T], *args) -> T:
        """`work(*args)` on the worker thread, the caller waiting; at once when the caller is the worker."""
        if threading.current_thread() is self._worker_thread:
            return work(*args)
        return self._submit(work, *args).result()

    def _submit(self, work: Callable[..., T], *args) -> Future:
        """`work(*args)` queued for the worker thread."""
        return self._worker.submit(self._on_worker, work, *args)

    def _on_worker(self, work: Callable[..., T], *args) -> T:
        self._worker_thread = threading.current_thread()
        try:
            return work(*args)
        finally:
            _trim_heap()


def _load_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS, Windows)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None).malloc_trim
    except (OSError, AttributeError, TypeError):   # TypeError: Windows, where no C library is found by name
        return None


_MALLOC_TRIM = _load_malloc_trim()


def _trim_heap() -> None:
    """Hand the memory malloc holds free back to the system (glibc's malloc_trim, where the C library has it).
    A photo's pixels and the detector's tensors are freed after each call, but glibc keeps freed blocks below
    its mmap threshold (which rises, up to 32 MB, as large blocks are freed) in its heap for reuse, and one
    large photo would set the app's size until the next one needed the same. About 7 ms after a twelve-megapixel
    photo, which takes 0.9 s to classify; without it the bursts above leave the app 150 MB larger."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
