"""Turn the files dropped on the Batch tab (photos, zips of photos) into items to classify one by one.

A zip is read as the CLI reads one (glasses/zips.py: which members are taken, the limits, the error rows), with
the app's limits (webapp/limits.py), and its entries are named after the upload's file name
(`photos.zip/day1/beach.jpg`). A file dropped on its own is always classified, so that a wrong one is reported.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from glasses.images import ImageSource
from glasses.zips import ZipLimits, is_zip, zip_entries
from webapp.limits import MAX_UPLOAD_BYTES, MAX_ZIP_IMAGES, MAX_ZIP_UNPACKED_BYTES


@dataclass(frozen=True)
class BatchItem:
    """One row-producing input: `read()` gives what Predictor takes, or raises ImageError saying why not."""

    name: str
    read: Callable[[], ImageSource]


def batch_items(paths: list[str]) -> list[BatchItem]:
    limits = ZipLimits(MAX_ZIP_IMAGES, MAX_ZIP_UNPACKED_BYTES, MAX_UPLOAD_BYTES)   # read here: tests change them
    items: list[BatchItem] = []
    for path in paths:
        name = Path(path).name
        if is_zip(path):
            items.extend(BatchItem(entry.name, entry.read) for entry in zip_entries(path, name, limits))
        else:
            items.append(BatchItem(name, lambda path=path: path))
    return items
