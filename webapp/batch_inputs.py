"""Turn the files dropped on the Batch tab (photos, zips of photos) into items to classify one by one.

A zip is walked like a folder by the CLI: a member is taken when its name or its header says image; folders,
hidden entries (and macOS's __MACOSX) and other files are passed over. Members are read one at a time, each
at most MAX_UPLOAD_BYTES, so a zip that unpacks to far more than it weighs cannot exhaust memory. A file
dropped on its own is always classified, so that a wrong one is reported.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from PIL import Image, UnidentifiedImageError

from glasses import ImageError
from glasses.images import ImageSource
from glasses.inputs import IMAGE_SUFFIXES
from webapp.limits import MAX_UPLOAD_BYTES, MAX_ZIP_IMAGES, too_large

# Enough of a file's start for Pillow to recognise every format it reads by its header.
_HEADER_BYTES = 4096


@dataclass(frozen=True)
class BatchItem:
    """One row-producing input: `read()` gives what Predictor takes, or raises ImageError saying why not."""

    name: str
    read: Callable[[], ImageSource]


def batch_items(paths: list[str]) -> list[BatchItem]:
    items: list[BatchItem] = []
    for path in paths:
        name = Path(path).name
        if zipfile.is_zipfile(path):
            items.extend(_zip_items(path, name))
        else:
            items.append(BatchItem(name, lambda path=path: path))
    return items


def _zip_items(path: str, zip_name: str) -> list[BatchItem]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if _is_candidate(info) and _looks_like_image(archive, info)]
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return [BatchItem(zip_name, _failing(zip_name, f"corrupt zip: {err}"))]
    items = [BatchItem(f"{zip_name}/{info.filename}", lambda info=info: _read_member(path, zip_name, info))
             for info in members[:MAX_ZIP_IMAGES]]
    if len(members) > MAX_ZIP_IMAGES:
        items.append(BatchItem(zip_name, _failing(zip_name, f"holds {len(members)} images; only the first "
                                                            f"{MAX_ZIP_IMAGES} were read")))
    return items


def _is_candidate(info: zipfile.ZipInfo) -> bool:
    parts = PurePosixPath(info.filename).parts
    return not info.is_dir() and not any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _looks_like_image(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    if PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES:
        return True
    try:
        with archive.open(info) as member, Image.open(io.BytesIO(member.read(_HEADER_BYTES))):
            return True
    except Image.DecompressionBombError:   # an image all the same: reading it will say it is too large
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile):
        return False


def _read_member(path: str, zip_name: str, info: zipfile.ZipInfo) -> bytes:
    name = f"{zip_name}/{info.filename}"
    if info.file_size > MAX_UPLOAD_BYTES:
        raise ImageError(name, too_large(info.file_size))
    try:   # zipfile reads no more than the size the member declares, checked above
        with zipfile.ZipFile(path) as archive, archive.open(info) as member:
            return member.read()
    except RuntimeError as err:   # zipfile's word for an encrypted member
        raise ImageError(name, f"cannot unpack: {err}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ImageError(name, f"corrupt zip member: {err}") from None


def _failing(name: str, reason: str) -> Callable[[], ImageSource]:
    def read() -> ImageSource:
        raise ImageError(name, reason)
    return read
