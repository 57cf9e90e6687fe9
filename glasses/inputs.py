"""Turn the paths a user typed into the files to process, in a stable order."""
from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm",
                  ".pnm", ".jfif"}


def expand_inputs(paths: list[str]) -> list[str]:
    """Files as given (even missing ones, so they are reported), and folders walked recursively.

    In a folder, a file is taken when its name says image or, whatever its name (Yale's `subject01.glasses`),
    its header does; other files (notes, CSVs) and hidden entries are passed over. Names are sorted within each
    folder; a file reached twice is processed once.
    """
    files: list[str] = []
    for given in paths:
        if os.path.isdir(given):
            files.extend(_walk(given))
        else:
            files.append(given)
    return list(dict.fromkeys(files))


def _walk(folder: str) -> list[str]:
    found = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(current, name)
            if not name.startswith(".") and (Path(name).suffix.lower() in IMAGE_SUFFIXES or _looks_like_image(path)):
                found.append(path)
    return found


def _looks_like_image(path: str) -> bool:
    try:
        with Image.open(path):
            return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
