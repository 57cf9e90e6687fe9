"""Face boxes for the review screen, found ahead of time in a background thread so the next image is ready.

A ranking made from a manifest's pred_prob carries no box, yet the reviewer must see which face was scored:
the largest one, as training crops it.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from glasses.detect import FaceDetector
from glasses.images import ImageError, load_image

Box = tuple[int, int, int, int]
KEPT_BOXES = 512  # recent images whose box stays in memory (undo, going back)


class FaceBoxes:
    """`prefetch(path)` starts finding a box; `get(path)` returns it (waiting if it is not found yet). One
    instance can serve every reviewer's session: the app's request threads may call it at once."""

    def __init__(self, detector: FaceDetector | None = None):
        self.detector = detector or FaceDetector()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-boxes")  # one detector user
        self._boxes: OrderedDict[Path, Future] = OrderedDict()
        self._lock = threading.Lock()

    def prefetch(self, path: Path) -> Future:
        with self._lock:
            if path not in self._boxes:
                self._boxes[path] = self._worker.submit(self._largest_face, path)
                while len(self._boxes) > KEPT_BOXES:
                    self._boxes.popitem(last=False)
            self._boxes.move_to_end(path)
            return self._boxes[path]

    def get(self, path: Path) -> Box | None:
        """The largest face's box, or None when there is no face or the image cannot be read."""
        return self.prefetch(path).result()

    def _largest_face(self, path: Path) -> Box | None:
        try:
            faces = self.detector.detect(load_image(path))
        except ImageError:
            return None
        return tuple(int(round(v)) for v in faces[0].box) if faces else None
