"""Turn the paths a user typed into the files to process, in a stable order."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from glasses.images import ImageError, os_error_reason

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm",
                  ".pnm", ".jfif"}


def expand_inputs(paths: list[str]) -> list[str | ImageError]:
    """Files as given (even missing ones, so they are reported), and folders walked recursively.

    In a folder, a file is taken when its name says image or, whatever its name (Yale's `subject01.glasses`),
    its header does; other files (notes, CSVs), hidden entries and what is not a regular file (FIFOs, sockets,
    devices) are passed over. A folder that cannot be listed comes back as an ImageError in its place, to be
    reported like an unreadable file. Names are sorted within each folder; a file reached twice is processed once.
    """
    files: list[str | ImageError] = []
    for given in paths:
        if os.path.isdir(given):
            files.extend(_walk(given))
        else:
            files.append(given)
    return list(dict.fromkeys(files))


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
