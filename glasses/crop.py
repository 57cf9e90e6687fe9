"""The one face-crop function, shared by training and inference so the classifier sees the same framing."""
from __future__ import annotations

import numpy as np
from PIL import Image

# Margin around the detector's box (a fraction of its longer side): keeps the temples, where glasses' arms are.
# BlazeFace's square box is 0.85 times the height of MTCNN's (CelebA-HQ, median), so 50% frames a face as
# MTCNN's box with 25% does.
DEFAULT_MARGIN = 0.5


def crop_face(image: Image.Image, box: tuple[float, float, float, float], size: int,
              margin: float = DEFAULT_MARGIN) -> Image.Image:
    """A square `size` x `size` RGB crop centred on `box`; parts beyond the photo's edge are black."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    region = tuple(round(v) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
    return image.crop(region).resize((size, size), Image.BILINEAR)


def as_batch(crops: np.ndarray) -> np.ndarray:
    """uint8 RGB crops (N, S, S, 3) as the classifier takes them: float (N, 3, S, S) in 0..1."""
    return np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32) / 255
