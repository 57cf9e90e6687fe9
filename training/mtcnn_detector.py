"""MTCNN (facenet-pytorch, on torch), run the way measurements on real photos say is fast: the baseline that
bench/speed.py and `training/evaluate.py --detector mtcnn` compare glasses' BlazeFace detector against.

MTCNN's cost is set by how many candidate windows its first stage proposes, which grows as the smallest face
it looks for shrinks relative to the image. So a first pass looks for faces of at least `min_face_size`
pixels (capped at a quarter of the shorter side, so small photos still work) on an image no larger than
`max_side`. Only when that pass finds nothing does a second, slower pass run: the image upscaled (small
photos) and padded (tight face crops), with laxer stage thresholds. Faces below `min_prob` are dropped in
both passes: on real photos they were stray or false faces. bench/speed.py reports the recall this keeps.

`max_side` bounds what MTCNN looks at, not only what it is handed: MTCNN enlarges its input by 12 /
(smallest face) for its first pyramid level, so the smallest face a pass asks for is never less than 12
pixels per `max_side` pixels of that pass's canvas. A 9000-pixel photo scaled to 1280 would otherwise ask for
40 * 1280 / 9000 = 5.7-pixel faces, and MTCNN would run its first stage on 2700x2700 pixels: 15 million
pixels, 5-10 s and 600 MB on two cores, to look for faces that the scaling has shrunk below its window. So in
a photo larger than `max_side` the smallest face looked for is `min_face_size` or 12 pixels of the scaled
view, whichever is larger: 40 pixels up to 4266-pixel photos, 84 pixels in a 9000-pixel one.
The same floor holds in the second pass; with the default `max_side` it never binds there: that pass's canvas
is at most 1.4 * `max_side` (the padding) and it asks for 20-pixel faces, so MTCNN shrinks it to 0.6 of that.
The image is scaled down once, for both passes.
"""
from __future__ import annotations

import numpy as np
import torch
from facenet_pytorch import MTCNN
from facenet_pytorch.models.utils.detect_face import detect_face
from PIL import Image, ImageOps

from glasses.detect import Detection   # the same face record glasses' own detector returns

# Images whose shorter side is below this, as given or as scaled for a pass, cannot hold a face MTCNN can find
# (its windows are 12 px); scaled below it, MTCNN's pyramid would be empty, or would upscale a strip enormously.
MIN_IMAGE_SIDE = 16
_STRICT_THRESHOLDS = (0.6, 0.7, 0.7)    # MTCNN's defaults for its three stages
_LAX_THRESHOLDS = (0.5, 0.6, 0.6)
_PYRAMID_FACTOR = 0.709
_MTCNN_WINDOW = 12                      # P-Net's window: MTCNN scales its input by _MTCNN_WINDOW / min_face
_SECOND_PASS_MIN_FACE = 20
_SECOND_PASS_PAD = 0.2                  # of the shorter side, on every side


class FaceDetector:
    """Every face in an RGB image, largest first."""

    def __init__(self, device: str = "cpu", min_face_size: int = 40, max_side: int = 1280,
                 min_prob: float = 0.9):
        if min_face_size < 12:
            raise ValueError(f"min_face_size must be at least 12 pixels, got {min_face_size}")
        if max_side < 64:
            raise ValueError(f"max_side must be at least 64 pixels, got {max_side}")
        self.device = torch.device(device)
        self.min_face_size = min_face_size
        self.max_side = max_side
        self.min_prob = min_prob
        self._nets = MTCNN(device=self.device)  # holds the P-, R- and O-nets and their shipped weights

    def detect(self, image: Image.Image, full_size: tuple[int, int] | None = None) -> list[Detection]:
        """`full_size`: where `image` is a reduced copy of a photo (glasses.images.ScaledImage), the photo's size,
        so that `min_face_size` counts pixels of the photo, as it does for a photo given whole. Boxes are in
        pixels of `image` either way."""
        if min(image.size) < MIN_IMAGE_SIDE:
            return []
        scale = min(1.0, self.max_side / max(image.size))
        size = (round(image.width * scale), round(image.height * scale))
        if min(size) < MIN_IMAGE_SIDE:  # a strip scaled down to fit max_side: too thin to hold a face, at any scale
            return []
        view = image if scale == 1.0 else image.resize(size, Image.BILINEAR)
        held = max(image.size) / max(full_size) if full_size else 1.0   # pixels of `image` per pixel of the photo
        min_face = min(self.min_face_size * scale * held, min(image.size) * scale / 4)
        faces = self._run(view, image.size, scale, pad=0, min_face=min_face, thresholds=_STRICT_THRESHOLDS)
        if not faces:
            faces = self._second_chance(image, view, scale)
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def _second_chance(self, image: Image.Image, view: Image.Image, scale: float) -> list[Detection]:
        """Slower pass for photos the first found empty: faces in profile, in sunglasses, or cropped tight. Its
        canvas is `view` padded or, where that is under 400 pixels, the photo at twice the scale, padded."""
        if max(image.size) * scale < 400:
            scale *= 2
            view = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
        pad = round(_SECOND_PASS_PAD * min(image.size) * scale)
        return self._run(view, image.size, scale, pad=pad, min_face=_SECOND_PASS_MIN_FACE,
                         thresholds=_LAX_THRESHOLDS)

    def _run(self, view: Image.Image, size: tuple[int, int], scale: float, pad: int, min_face: float,
             thresholds: tuple[float, float, float]) -> list[Detection]:
        """Faces in `view`, the image (of `size`) scaled by `scale`, padded by `pad` on every side here; boxes
        in pixels of the image."""
        work = ImageOps.expand(view, border=pad, fill=(127, 127, 127)) if pad else view
        # MTCNN's first pyramid level is `work` enlarged by _MTCNN_WINDOW / min_face: kept within max_side.
        min_face = max(min_face, _MTCNN_WINDOW * max(work.size) / self.max_side)
        with torch.no_grad():
            batch_boxes, _ = detect_face(work, min_face, self._nets.pnet, self._nets.rnet, self._nets.onet,
                                         list(thresholds), _PYRAMID_FACTOR, self.device)
        rows = np.asarray(batch_boxes[0], dtype=object).astype(float).reshape(-1, 5)
        rows = rows[rows[:, 4] >= self.min_prob]
        width, height = size
        boxes = np.clip((rows[:, :4] - pad) / scale, 0, [width, height, width, height])
        return [Detection(box=tuple(float(v) for v in box), prob=float(prob)) for box, prob in zip(boxes, rows[:, 4])
                if box[2] - box[0] >= 1 and box[3] - box[1] >= 1]
