"""Turn the files dropped on the Batch tab (photos, zips of photos) into items to classify one by one.

A zip is walked like a folder by the CLI: a member is taken when its name or its header says image; folders,
hidden entries (and macOS's __MACOSX) and other files are passed over. A zip inside the zip, and a zip with no
image in it, are rows that say so. Members are read one at a time, each at most MAX_UPLOAD_BYTES, and the
members of one zip together at most MAX_ZIP_UNPACKED_BYTES, so a zip that unpacks to far more than it weighs
can exhaust neither memory nor the queue's time. A file dropped on its own is always classified, so that a
wrong one is reported.
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
from webapp.limits import MAX_UPLOAD_BYTES, MAX_ZIP_IMAGES, MAX_ZIP_UNPACKED_BYTES, too_large

# Enough of a file's start for Pillow to recognise every format it reads by its header.
_HEADER_BYTES = 4096
# How every zip starts (a local file header, or the end record of an empty zip): a truncated one included,
# which zipfile.is_zipfile does not recognise.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class BatchItem:
    """One row-producing input: `read()` gives what Predictor takes, or raises ImageError saying why not."""

    name: str
    read: Callable[[], ImageSource]


def batch_items(paths: list[str]) -> list[BatchItem]:
    items: list[BatchItem] = []
    for path in paths:
        name = Path(path).name
        if _is_zip(path):
            items.extend(_zip_items(path, name))
        else:
            items.append(BatchItem(name, lambda path=path: path))
    return items


def _is_zip(path: str) -> bool:
    if Path(path).suffix.lower() == ".zip":
        return True
    with open(path, "rb") as file:
        return file.read(4) in _ZIP_MAGIC


def _zip_items(path: str, zip_name: str) -> list[BatchItem]:
    try:
        with zipfile.ZipFile(path) as archive:
            candidates = [info for info in archive.infolist() if _is_candidate(info)]
            nested = [info for info in candidates if PurePosixPath(info.filename).suffix.lower() == ".zip"]
            members = [info for info in candidates if info not in nested and _looks_like_image(archive, info)]
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        return [BatchItem(zip_name, _failing(zip_name, f"corrupt zip: {err}"))]
    items = [BatchItem(_member_name(zip_name, info), _failing(_member_name(zip_name, info), "a zip inside a zip is "
                                                              "not opened; drop it on its own")) for info in nested]
    unpacked = 0
    for count, info in enumerate(members):
        unpacked += info.file_size
        if count == MAX_ZIP_IMAGES or unpacked > MAX_ZIP_UNPACKED_BYTES:
            limit = (f"{MAX_ZIP_IMAGES} images" if count == MAX_ZIP_IMAGES
                     else f"{MAX_ZIP_UNPACKED_BYTES // 1024 ** 3} GB unpacked")
            items.append(BatchItem(zip_name, _failing(zip_name, f"holds {len(members)} images; only the first "
                                                                f"{count} were read (limit {limit})")))
            break
        items.append(BatchItem(_member_name(zip_name, info), lambda info=info: _read_member(path, zip_name, info)))
    if not items:
        items.append(BatchItem(zip_name, _failing(zip_name, "no image in this zip")))
    return items


def _member_name(zip_name: str, info: zipfile.ZipInfo) -> str:
    return f"{zip_name}/{info.filename.lstrip('/')}"


def _is_candidate(info: zipfile.ZipInfo) -> bool:
    """Not a folder, nor hidden (`..` is no hiding: such a member is only read, never unpacked to disk)."""
    parts = PurePosixPath(info.filename).parts
    return not info.is_dir() and not any(p.startswith(".") and p != ".." or p == "__MACOSX" for p in parts)


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
    name = _member_name(zip_name, info)
    if info.file_size > MAX_UPLOAD_BYTES:
        raise ImageError(name, too_large(info.file_size))
    if info.flag_bits & 0x1:
        raise ImageError(name, "encrypted: unpacking it needs a password")
    try:   # zipfile reads no more than the size the member declares, checked above
        with zipfile.ZipFile(path) as archive, archive.open(info) as member:
            return member.read()
    except (NotImplementedError, RuntimeError) as err:   # a compression method zipfile lacks, or other refusals
        raise ImageError(name, f"cannot unpack: {err}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ImageError(name, f"corrupt zip member: {err}") from None


def _failing(name: str, reason: str) -> Callable[[], ImageSource]:
    def read() -> ImageSource:
        raise ImageError(name, reason)
    return read
