"""Where `python -m glasses predict --overlay DIR` saves each photo with its faces drawn on it.

An overlay keeps its photo's place under the deepest folder that holds every input, so a folder's tree is
mirrored and no two photos share an overlay. A JPEG stays a JPEG under its own name; any other image becomes a
PNG named after the photo with `.png` added (Yale's `subject01.glasses` -> `subject01.glasses.png`), unless it
is one already. An image in a zip keeps its place as if the zip were a folder of its name (`photos.zip/a/b.jpg`),
its member's path stripped of `..` and leading `/`, so that no member's overlay lands outside the folder. The
folder and the inputs must not nest, so an overlay never replaces a photo and a later run over the same folder
never reads overlays as photos.
"""
from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from glasses.images import ImageError
from glasses.overlay import draw_overlay
from glasses.prediction import FaceResult
from glasses.zips import ZipEntry

KEPT_SUFFIXES = {".jpg", ".jpeg", ".png"}
JPEG_QUALITY = 90


class OverlayFolder:
    """Made by `plan`, which refuses a folder that cannot be used; `save` writes one photo's overlay."""

    def __init__(self, targets: dict[str, Path]):
        self.targets = targets   # the name of an input's Prediction (its path, as listed) -> its overlay file

    @classmethod
    def plan(cls, folder: str, given: list[str], inputs: list[str | ZipEntry | ImageError]) -> "OverlayFolder":
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
        files = {_name(item): _place(item) for item in inputs if _drawn(item)}   # name -> where it sits
        if not files:
            return cls({})
        common = os.path.commonpath([os.path.dirname(place) for place in files.values()])
        targets, first = {}, {}
        for name, place in files.items():
            target = out / _overlay_name(os.path.relpath(place, common))
            if target in first and files[first[target]] != place:
                raise ValueError(f"--overlay: {first[target]} and {name} would both be drawn to {target}")
            targets[name], first[target] = target, name
        return cls(targets)

    def save_for(self, prediction) -> None:
        """Save the overlay of a Prediction that has its photo (Predictor's `show_side`), where one is planned for
        it: none for a photo that could not be read. An OSError names the overlay file."""
        if prediction.error is None and prediction.name in self.targets:
            self.save(prediction.name, prediction.photo.image, list(prediction.faces))

    def save(self, name: str, image: Image.Image, faces: list[FaceResult]) -> None:
        """Draw `faces` on `image` (the photo its Prediction names `name`) and write it; an OSError names the
        overlay file."""
        target = self.targets[name]
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            draw_overlay(image, faces).save(target, quality=JPEG_QUALITY)
        except OSError as err:
            raise OSError(err.errno, err.strerror or str(err), str(target)) from None


def _drawn(item: str | ZipEntry | ImageError) -> bool:
    """A file, or an image in a zip: an input that may have a photo to draw on."""
    return isinstance(item, str) or isinstance(item, ZipEntry) and item.member is not None


def _name(item: str | ZipEntry) -> str:
    """How the item's Prediction is named."""
    return item.name if isinstance(item, ZipEntry) else item


def _place(item: str | ZipEntry) -> str:
    """Where the item sits, as an absolute path: an image in a zip as if the zip were a folder."""
    if isinstance(item, ZipEntry):
        return os.path.join(os.path.abspath(item.zip_path), *item.member_parts)
    return os.path.abspath(item)


def _overlay_name(relative: str) -> str:
    return relative if Path(relative).suffix.lower() in KEPT_SUFFIXES else f"{relative}.png"
