"""Face boxes for the review screen, found ahead of time in a background thread so the next image is ready.

A ranking made from a manifest's pred_prob carries no box, yet the reviewer must see which face was scored:
the largest one, as training crops it. Images are read through relabel.contained, checked at open time
against the data folder, as the tab reads them.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from glasses.detect import FaceDetector
from glasses.images import ImageError, load_image
from relabel.contained import read_contained

Box = tuple[int, int, int, int]
KEPT_BOXES = 512  # recent images whose box stays in memory (undo, going back)


class FaceBoxes:
    """`prefetch(data_root, path)` starts finding a box for the image at `path` (as in the manifest) under
    `data_root`; `get(data_root, path)` returns it (waiting if it is not found yet). One instance can serve
    every reviewer's session: the app's request threads may call it at once."""

    def __init__(self, detector: FaceDetector | None = None):
        self.detector = detector or FaceDetector()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-boxes")  # one detector user
        self._boxes: OrderedDict[tuple[Path, str], Future] = OrderedDict()
        self._lock = threading.Lock()

    def prefetch(self, data_root: Path, path: str) -> Future:
        key = (Path(data_root), path)
        with self._lock:
            if key not in self._boxes:
                self._boxes[key] = self._worker.submit(self._largest_face, *key)
                while len(self._boxes) > KEPT_BOXES:
                    self._boxes.popitem(last=False)
            self._boxes.move_to_end(key)
            return self._boxes[key]

    def get(self, data_root: Path, path: str) -> Box | None:
        """The largest face's box, or None when there is no face or the image cannot be read (or not safely)."""
        return self.prefetch(data_root, path).result()

    def _largest_face(self, data_root: Path, path: str) -> Box | None:
        try:
            faces = self.detector.detect(load_image(read_contained(data_root, path)))
        except ImageError:
            return None
        return tuple(int(round(v)) for v in faces[0].box) if faces else None
