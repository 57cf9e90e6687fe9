"""Turn the paths a user typed into the files to process, in a stable order."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from glasses.config import DEFAULTS
from glasses.images import IMAGE_SUFFIXES, ImageError, os_error_reason
from glasses.zips import ZipEntry, ZipLimits, is_zip, zip_entries

if TYPE_CHECKING:   # the predictor's module loads onnxruntime; listing inputs needs none of it
    from glasses.predictor import ManyItem

__all__ = ["IMAGE_SUFFIXES", "Input", "as_many_item", "expand_inputs"]

# One input to process: a file's path, a zip's entry, or a folder that could not be listed.
Input = str | ZipEntry | ImageError


def expand_inputs(paths: list[str], zip_limits: ZipLimits | None = None) -> list[Input]:
    """Files as given (even missing ones, so they are reported), zips opened, and folders walked recursively.

    A zip named in `paths` gives one entry per image in it, named `<path>/<member>` (glasses/zips.py, within
    `zip_limits`, default glasses/config.py's built-in ones); a zip found in a folder is no image and is passed
    over, as are other files there that are not images.

    In a folder, a file is taken when its name says image or, whatever its name (Yale's `subject01.glasses`),
    its header does; other files (notes, CSVs), hidden entries and what is not a regular file (FIFOs, sockets,
    devices) are passed over. A folder that cannot be listed comes back as an ImageError in its place, to be
    reported like an unreadable file. Names are sorted within each folder; a file reached twice is processed once.
    """
    limits = zip_limits or ZipLimits.from_config(DEFAULTS)
    files: list[Input] = []
    opened: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            files.extend(_walk(given))
        elif is_zip(given):
            if os.path.realpath(given) not in opened:   # a zip given twice is read once
                opened.add(os.path.realpath(given))
                files.extend(zip_entries(given, given, limits))
        else:
            files.append(given)
    return list(dict.fromkeys(files))


def as_many_item(item: Input) -> ManyItem:
    """`item` as Predictor.predict_many takes it: a zip's entry as (name, its reader)."""
    return (item.name, item.read) if isinstance(item, ZipEntry) else item


def _walk(folder: str) -> list[str | ImageError]:
    found: list[str | ImageError] = []

    def unreadable(err: OSError) -> None:
        found.append(ImageError(err.filename, os_error_reason(err)))

    for current, dirs, names in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(current, name)
            if name.startswith(".") or _is_special_file(path):
                continue
            if Path(name).suffix.lower() in IMAGE_SUFFIXES or _looks_like_image(path):
                found.append(path)
    return found


def _is_special_file(path: str) -> bool:
    """A FIFO, socket or device: opening one to read its header could block for ever, and none is a photo."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # a dangling link: taken by its name, then reported as not found, like a missing file


def _looks_like_image(path: str) -> bool:
    try:
        with Image.open(path):
            return True
    except Image.DecompressionBombError:
        return True  # an image, too large for Pillow: taken, so that the size is reported
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
