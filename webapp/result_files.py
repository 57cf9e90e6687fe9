"""The files the app hands a visitor to download (a photo's overlay, a batch's CSV, overlays and their zip): where
they are written and what they are called.

Each request's files go in a folder of their own inside Gradio's cache, so that each keeps a plain name (the
browser downloads a file under the name it is served with) and no two visitors' files meet. A file returned
from there is served as it is and deleted with the cache (after an hour, and when the app exits), where one
written elsewhere would be copied in and the original, holding the visitor's file names and results, left
behind. Folders the cache's clean-up has emptied are removed when the next request makes one.

Names come from the visitor's own file names (`photo.jpg` -> `photo_overlay.jpg`), made safe first: control and
invisible characters escaped as everywhere else (glasses.prediction.printable), and nothing that could climb
out of a folder (`/`, `..`, a leading dot) or exceed a file name's length.
"""
from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path, PurePosixPath

from gradio.utils import get_upload_folder

from glasses.images import IMAGE_SUFFIXES
from glasses.prediction import printable

OVERLAY_SUFFIX = "_overlay.jpg"
_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@=]+")   # \w: letters and digits of any script, and _
_LONGEST_STEM = 100


def result_folder(prefix: str) -> Path:
    """A new, empty folder inside Gradio's cache for one request's files, named `prefix` and a random part."""
    cache = Path(get_upload_folder())
    cache.mkdir(parents=True, exist_ok=True)
    for emptied in cache.glob(f"{prefix}*"):   # earlier requests' folders, once the cache took their files
        with contextlib.suppress(OSError):      # not empty, or removed by another request meanwhile
            emptied.rmdir()
    return Path(tempfile.mkdtemp(prefix=prefix, dir=cache))


def overlay_name(name: str) -> str:
    """The file name of the overlay of the photo named `name` (an upload's name, or `photos.zip/a/b.gif`):
    its last part's stem, made safe, and `_overlay.jpg`."""
    return f"{safe_stem(name)}{OVERLAY_SUFFIX}"


def overlay_path_in_zip(name: str) -> str:
    """Where the overlay of the photo named `name` goes inside the zip of a batch's overlays: the folders of
    its name kept (`photos.zip/day1/beach.jpg` -> `photos.zip/day1/beach_overlay.jpg`), each part made safe,
    so that unpacking the zip writes nothing outside the folder it is unpacked into."""
    parts = [_safe_part(part) for part in PurePosixPath(printable(name)).parts[:-1] if part != "/"]
    return "/".join([*(part for part in parts if part), overlay_name(name)])


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name` with -2, -3, ... before its suffix where an earlier file took it; recorded in `taken`."""
    stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
    candidate, count = name, 1
    while candidate in taken:
        count += 1
        candidate = f"{stem}-{count}{dot}{suffix}"
    taken.add(candidate)
    return candidate


def safe_stem(name: str) -> str:
    """The last part of `name` without an image suffix (`photo.jpg` -> `photo`; Yale's `subject01.glasses` keeps
    its whole name), as a file name may hold it; "photo" where nothing is left."""
    last = PurePosixPath(printable(name))
    stem = last.stem if last.suffix.lower() in IMAGE_SUFFIXES else last.name
    return _safe_part(stem) or "photo"


def _safe_part(part: str) -> str:
    """One folder's or file's name: unusual characters replaced by _, no leading dot, at most _LONGEST_STEM
    characters."""
    return _UNSAFE.sub("_", part).lstrip(".").strip()[:_LONGEST_STEM]
