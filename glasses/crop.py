"""The one face-crop function, shared by training and inference so the classifier sees the same framing."""
from __future__ import annotations

from PIL import Image

# Margin around MTCNN's box (a fraction of its longer side): keeps the temples, where glasses' arms are.
DEFAULT_MARGIN = 0.25


def crop_face(image: Image.Image, box: tuple[float, float, float, float], size: int,
              margin: float = DEFAULT_MARGIN) -> Image.Image:
    """A square `size` x `size` RGB crop centred on `box`; parts beyond the photo's edge are black."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1 + margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    region = tuple(round(v) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2))
    return image.crop(region).resize((size, size), Image.BILINEAR)
