"""How much one upload may weigh, in one place so the REST route, Gradio's uploads and zip members agree.

The pixel limit is the library's (glasses.images.DEFAULT_MAX_PIXELS, applied by the Predictor): it refuses
an image before decoding it, whatever its size in bytes.
"""
from __future__ import annotations

import math

# 50 MB: several times a phone photo, enough for a zip of a few hundred; small enough to hold in memory.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# A batch zip may hold this many images, unpacking to at most this many bytes together (photos barely
# compress, so a 50 MB zip of them unpacks to little more); the rest are reported as one error row, not read.
MAX_ZIP_IMAGES = 1000
MAX_ZIP_UNPACKED_BYTES = 1024 ** 3


def too_large(size: int | None = None) -> str:
    """The words for an upload over the limit; `size` None when it is not known (a chunked upload, cut off).
    Rounded up, so that a size just over the limit never reads as the limit itself."""
    limit = f"(limit {MAX_UPLOAD_BYTES // 1024 // 1024} MB)"
    if size is None:
        return f"too large {limit}"
    return f"too large: {math.ceil(size / 1024 / 1024 * 10) / 10:.1f} MB {limit}"
