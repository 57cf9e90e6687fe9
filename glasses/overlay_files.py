"""Where `python -m glasses predict --overlay DIR` saves each photo with its faces drawn on it.

An overlay keeps its photo's place under the deepest folder that holds every input, so a folder's tree is
mirrored and no two photos share an overlay. A JPEG stays a JPEG under its own name; any other image becomes a
PNG named after the photo with `.png` added (Yale's `subject01.glasses` -> `subject01.glasses.png`), unless it
is one already. The folder and the inputs must not nest, so an overlay never replaces a photo and a later run
over the same folder never reads overlays as photos.
"""
from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from glasses.images import ImageError
from glasses.overlay import draw_overlay
from glasses.prediction import FaceResult

KEPT_SUFFIXES = {".jpg", ".jpeg", ".png"}
JPEG_QUALITY = 90


class OverlayFolder:
    """Made by `plan`, which refuses a folder that cannot be used; `save` writes one photo's overlay."""

    def __init__(self, targets: dict[str, Path]):
        self.targets = targets   # input path, as listed -> its overlay file

    @classmethod
    def plan(cls, folder: str, given: list[str], inputs: list[str | ImageError]) -> "OverlayFolder":
        """The overlay file of every input; raises ValueError, saying why, for a folder that is a file, that
        nests with an input (`given`: the paths as typed), or where two inputs would share an overlay."""
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ValueError(f"--overlay {folder} is a file, not a folder")
        out = Path(os.path.realpath(folder))
        for path in given:
            real = Path(os.path.realpath(path))
            if os.path.isdir(path) and out.is_relative_to(real):
                raise ValueError(f"--overlay {folder} is inside the input folder {path}: a later run over it would "
                                 f"read the overlays as photos; choose a folder outside it")
            if real.is_relative_to(out):
                raise ValueError(f"--overlay {folder} holds the input {path}: an overlay could replace a photo; "
                                 f"choose a folder outside the inputs")
        files = [item for item in inputs if isinstance(item, str)]
        if not files:
            return cls({})
        common = os.path.commonpath([os.path.dirname(os.path.abspath(item)) for item in files])
        targets, first = {}, {}
        for item in files:
            target = out / _overlay_name(os.path.relpath(os.path.abspath(item), common))
            if target in first and os.path.abspath(first[target]) != os.path.abspath(item):
                raise ValueError(f"--overlay: {first[target]} and {item} would both be drawn to {target}")
            targets[item], first[target] = target, item
        return cls(targets)

    def save(self, path: str, image: Image.Image, faces: list[FaceResult]) -> None:
        """Draw `faces` on `image` (the photo at `path`) and write it; an OSError names the overlay file."""
        target = self.targets[path]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            draw_overlay(image, faces).save(target, quality=JPEG_QUALITY)
        except OSError as err:
            raise OSError(err.errno, err.strerror or str(err), str(target)) from None


def _overlay_name(relative: str) -> str:
    return relative if Path(relative).suffix.lower() in KEPT_SUFFIXES else f"{relative}.png"
