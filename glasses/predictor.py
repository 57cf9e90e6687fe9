"""The Python API that the CLI, the app and training share: image in, one FaceResult per face out."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from glasses.crop import as_batch, crop_face
from glasses.detect import FaceDetector
from glasses.images import DEFAULT_MAX_PIXELS, ImageSource, load_image
from glasses.mirror import glasses_probs
from glasses.runtime import load_classifier
from glasses.weights import DEFAULT_WEIGHTS

GLASSES, NO_GLASSES = "glasses", "no_glasses"


@dataclass(frozen=True)
class FaceResult:
    """One face: its box (x1, y1, x2, y2) in pixels of the image as a viewer shows it, largest face first."""

    box: tuple[int, int, int, int]
    face_prob: float
    glasses_prob: float
    label: str

    def with_threshold(self, threshold: float) -> "FaceResult":
        """The same face labelled at another threshold, without running the model again."""
        return replace(self, label=label_for(self.glasses_prob, threshold))

    def to_dict(self) -> dict:
        return dict(asdict(self), box=list(self.box))


def label_for(glasses_prob: float, threshold: float) -> str:
    return GLASSES if glasses_prob >= threshold else NO_GLASSES


class Predictor:
    """Detects every face and tells for each whether glasses are worn.

    `threshold=None` takes the one recorded with the model (chosen on validation data). `backend`: what runs
    the classifier, see glasses.runtime ("auto" picks onnxruntime where it can; `self.backend` says which).
    """

    def __init__(self, weights: str | Path = DEFAULT_WEIGHTS, device: str = "cpu", threshold: float | None = None,
                 min_face_size: int = 40, max_side: int = 1280, max_pixels: int = DEFAULT_MAX_PIXELS,
                 backend: str = "auto"):
        self.classifier, config = load_classifier(Path(weights), device, backend)
        self.backend = self.classifier.name
        self.input_size = config["input_size"]
        self.crop_margin = config["crop_margin"]
        self.threshold = config["threshold"] if threshold is None else threshold
        self.mirror_band = config["mirror_band"]
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        self.max_pixels = max_pixels
        self.detector = FaceDetector(device=device, min_face_size=min_face_size, max_side=max_side)

    def predict(self, image: ImageSource) -> list[FaceResult]:
        """Faces in `image` (path, bytes, PIL image or array), largest first; [] when none is found.

        Raises glasses.ImageError, with a reason a person understands, when the image cannot be read.
        """
        image = load_image(image, self.max_pixels)
        faces = self.detector.detect(image)
        probs = self.classify([crop_face(image, face.box, self.input_size, self.crop_margin) for face in faces])
        return [FaceResult(box=tuple(int(round(v)) for v in face.box), face_prob=round(face.prob, 4),
                           glasses_prob=round(float(p), 4), label=label_for(float(p), self.threshold))
                for face, p in zip(faces, probs)]

    def classify(self, crops: list[Image.Image]) -> np.ndarray:
        """P(glasses) for face crops made by glasses.crop.crop_face at this model's size and margin, mirror-averaged
        near this Predictor's threshold as the model file says (glasses.mirror)."""
        if not crops:
            return np.zeros(0, np.float32)
        batch = as_batch(np.stack([np.asarray(c.convert("RGB")) for c in crops]))
        return glasses_probs(self.classifier, batch, self.threshold, self.mirror_band)
