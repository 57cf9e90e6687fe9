"""How much one upload may weigh and cost, in one place so the REST route, Gradio's uploads and zip members
agree.

The pixel limit refuses an image before decoding it, whatever its size in bytes. The app's is half the CLI's
(glasses.images.DEFAULT_MAX_PIXELS, 100 megapixels): a public server decodes what any visitor sends, and the
decode is the part of an image's cost that grows with its pixels (about 0.3-0.6 GB at 50 megapixels,
bench/huge_image.py), while 50 megapixels still takes the full-size photos of 48- and 50-megapixel phones.
"""
from __future__ import annotations

import math

# 50 MB: several times a phone photo, enough for a zip of a few hundred; small enough to hold in memory.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# A batch zip may hold this many images, unpacking to at most this many bytes together (photos barely
# compress, so a 50 MB zip of them unpacks to little more); the rest are reported as one error row, not read.
MAX_ZIP_IMAGES = 1000
MAX_ZIP_UNPACKED_BYTES = 1024 ** 3
WEB_MAX_PIXELS = 50_000_000
# One Batch run classifies for at most this long; the files it did not reach are rows saying so. Batch runs
# one visitor's batch at a time, so one batch of a thousand large photos would otherwise keep every other
# visitor's batch waiting for a quarter of an hour.
BATCH_TIME_BUDGET_S = 300


def too_large(size: int | None = None) -> str:
    """The words for an upload over the limit; `size` None when it is not known (a chunked upload, cut off).
    Rounded up, so that a size just over the limit never reads as the limit itself."""
    limit = f"(limit {MAX_UPLOAD_BYTES // 1024 // 1024} MB)"
    if size is None:
        return f"too large {limit}"
    return f"too large: {math.ceil(size / 1024 / 1024 * 10) / 10:.1f} MB {limit}"
