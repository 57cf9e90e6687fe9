"""One Predictor for the whole app (REST route and every tab), loaded once and used by one request at a time.

The Predictor is not documented as thread-safe, and on a small CPU two photos at once are no faster than one
after the other; the lock turns concurrent visitors into a queue. Decoding happens under the lock too, so that
many large uploads at once cannot each hold a decoded 100-megapixel image in memory.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from glasses import FaceResult, ImageError, Predictor, load_image
from glasses.images import ImageSource


@dataclass(frozen=True)
class Classified:
    """A photo as a viewer shows it (EXIF rotation applied) and its faces, largest first."""

    image: Image.Image
    faces: list[FaceResult]

    def to_dict(self) -> dict:
        """The JSON the REST route returns and the Classify tab shows."""
        return {"width": self.image.width, "height": self.image.height, "faces": [f.to_dict() for f in self.faces]}


class SharedPredictor:
    """Duck-types glasses.Predictor (`predict`, `threshold`) for the tabs, adding a lock and `classify`."""

    def __init__(self, predictor: Predictor, weights: Path):
        self.predictor = predictor
        self.weights = Path(weights)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, weights: Path, device: str = "cpu") -> "SharedPredictor":
        return cls(Predictor(weights, device=device), weights)

    @property
    def threshold(self) -> float:
        return self.predictor.threshold

    def predict(self, image: ImageSource) -> list[FaceResult]:
        with self._lock:
            return self.predictor.predict(image)

    def classify(self, source: ImageSource, name: str) -> Classified:
        """Read `source` and find its faces; an unreadable one raises ImageError naming `name`, not a temp path."""
        with self._lock:
            try:
                image = load_image(source, self.predictor.max_pixels)
            except ImageError as err:
                raise ImageError(name, err.reason) from None
            return Classified(image, self.predictor.predict(image))
