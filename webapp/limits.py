"""How much one upload may weigh and cost, so the REST route, Gradio's uploads and zip members agree.

The values, why each is what it is, and the environment variables that change them are glasses/config.py's;
they are read once, when the app starts. The pixel limit refuses an image before decoding it, whatever its size
in bytes; the app's is half the CLI's, because a public server decodes what any visitor sends.
"""
from __future__ import annotations

from glasses import zips
from glasses.config import load_config

_CONFIG = load_config()
MAX_UPLOAD_BYTES = _CONFIG.max_upload_bytes
MAX_ZIP_IMAGES = _CONFIG.max_zip_images
MAX_ZIP_UNPACKED_BYTES = _CONFIG.max_zip_unpacked_bytes
WEB_MAX_PIXELS = _CONFIG.web_max_pixels
BATCH_TIME_BUDGET_S = _CONFIG.batch_time_budget_s
# The detector's settings, as the CLI's flags default to: a smaller face or larger canvas costs more per photo.
MIN_FACE_SIZE = _CONFIG.min_face_size
MAX_SIDE = _CONFIG.max_side


def too_large(size: int | None = None) -> str:
    """The words for an upload over the limit; `size` None when it is not known (a chunked upload, cut off).
    Rounded up, so that a size just over the limit never reads as the limit itself."""
    if size is None:
        return f"too large (limit {MAX_UPLOAD_BYTES // 1024 // 1024} MB)"
    return zips.too_large(size, MAX_UPLOAD_BYTES)   # a zip member's words, in the CLI too
