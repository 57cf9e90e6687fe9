"""Read any image a user may hand us into an RGB PIL image, or fail with a reason a person understands.

Every failure is an `ImageError` whose `reason` is short plain words ("not an image", "truncated JPEG",
"image too large: 30000x30000 (limit 100 megapixels)"), so the CLI, the app and training can report it per file
and carry on.
"""
from __future__ import annotations

import io
import os
import stat
import threading
import warnings
from typing import Union

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

# 100 megapixels: above any phone camera's default mode, far below what exhausts memory when decoded.
DEFAULT_MAX_PIXELS = 100_000_000

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]

_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}
# Pillow reads 16-bit PGM/PPM samples (whatever the file's maxval, rescaled to 0..65535) into 32-bit mode "I".
_FORMATS_WIDENING_16_BIT = {"PPM"}
_bomb_limit_lock = threading.Lock()
_ROTATING_ORIENTATIONS = range(2, 9)   # EXIF orientations 2-8 flip or turn the stored pixels; 1 leaves them


class ImageError(Exception):
    """An input that cannot be used as a photo; `reason` is meant for the person who supplied it."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def load_image(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Return `source` as an 8-bit RGB image, oriented as a viewer shows it (EXIF orientation applied).

    `source` may be a path, the bytes of an encoded file (bytes, bytearray or memoryview), a PIL image, or an
    HxWx3 / HxW uint8 array; another type raises TypeError. Transparent pixels are composited over white; 16-bit
    images are scaled, not clipped, to 8 bits.
    """
    if isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    if isinstance(source, np.ndarray):
        _check_array(source, max_pixels)
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        name, image = getattr(source, "filename", "") or "<image>", source
        _check_size(name, image.size, max_pixels)
    elif isinstance(source, bytes):
        name = "<bytes>"
        if not source:
            raise ImageError(name, "empty file")
        image = _open(io.BytesIO(source), name, max_pixels)
    elif isinstance(source, (str, os.PathLike)):
        name = str(source)
        _check_file(name)
        image = _open(name, name, max_pixels)
    else:
        raise TypeError(f"cannot read an image from a {type(source).__name__}; "
                        "give a path, bytes, a PIL image or a numpy array")
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_large(name, image.size, max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(name, _decode_failure(image.format, err)) from None
    return _to_rgb(_apply_exif_orientation(image), image.format)


def _check_file(name: str) -> None:
    """Refuse what cannot be a photo before Pillow opens it: opening a FIFO or a device can block for ever."""
    try:
        info = os.stat(name)
    except OSError as err:
        raise ImageError(name, os_error_reason(err)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(name, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(name, "not a regular file")
    if not os.access(name, os.R_OK):
        raise ImageError(name, "permission denied")
    if info.st_size == 0:
        raise ImageError(name, "empty file")


def os_error_reason(err: OSError) -> str:
    """An OSError about a path in the words an ImageError uses ("file not found", "file name too long", ...)."""
    if isinstance(err, (FileNotFoundError, NotADirectoryError)):
        return "file not found"
    if isinstance(err, PermissionError):
        return "permission denied"
    return (err.strerror or type(err).__name__).lower()


def _open(fp, name: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse oversized images, by `max_pixels` alone, before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                image = Image.open(fp)
            except Image.DecompressionBombError:
                image = _open_past_pillow_limit(fp)
    except UnidentifiedImageError:
        raise ImageError(name, "not an image") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(name, _decode_failure(_format_from_magic(fp), err)) from None
    _check_size(name, image.size, max_pixels)
    return image


def _open_past_pillow_limit(fp) -> Image.Image:
    """Open (header only) an image that Pillow's own decompression-bomb limit (about 179 megapixels) refused, so
    that `max_pixels` is the one limit that applies. Pillow reads its limit from a module global and takes no
    other: it is lifted for this header read alone, under a lock, and put back before any pixel is decoded."""
    if isinstance(fp, io.BytesIO):
        fp.seek(0)
    with _bomb_limit_lock:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(fp)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _check_size(name: str, size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise _too_large(name, size, max_pixels)
    if width == 0 or height == 0:
        raise ImageError(name, f"image has no pixels: {width}x{height}")


def _too_large(name: str, size: tuple[int, int], max_pixels: int) -> ImageError:
    return ImageError(name, f"image too large: {size[0]}x{size[1]} (limit {max_pixels / 1e6:g} megapixels)")


_MAGIC = {b"\xff\xd8": "JPEG", b"\x89PNG": "PNG", b"GIF8": "GIF", b"BM": "BMP", b"RIFF": "WEBP"}


def _format_from_magic(fp) -> str | None:
    """The format a file claims by its first bytes, for naming what broke when Pillow fails in the header."""
    if isinstance(fp, io.BytesIO):
        head = fp.getvalue()[:4]
    else:
        with open(fp, "rb") as f:
            head = f.read(4)
    return next((fmt for magic, fmt in _MAGIC.items() if head.startswith(magic)), None)


def _decode_failure(fmt: str | None, err: Exception) -> str:
    fmt = fmt or "image"
    message = _first_line(err)
    if "truncated" in message.lower() or isinstance(err, EOFError):
        return f"truncated {fmt}"
    return f"corrupt {fmt}: {message}"


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    """Rotate as the EXIF orientation tag says; a malformed EXIF block leaves the pixels as stored. An image with
    nothing to rotate comes back as it is: Pillow would copy it whole, and the app and the CLI's --overlay hand
    the Predictor an image they have already loaded."""
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) not in _ROTATING_ORIENTATIONS:
            return image
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - broken metadata must not cost the user a readable photo
        return image


def _to_rgb(image: Image.Image, stored_format: str | None = None) -> Image.Image:
    """`stored_format`: the format the pixels were read from (EXIF rotation drops `image.format`)."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES or (image.mode == "I" and stored_format in _FORMATS_WIDENING_16_BIT):
        scaled = np.asarray(image).astype(np.float32) / 257.0
        return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ("I", "F"):  # 32-bit samples whose depth the file does not say (TIFF): scaled as arrays are
        return _array_to_rgb(np.asarray(image))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _check_array(array: np.ndarray, max_pixels: int) -> None:
    """Refuse an array that is not an image, or too large, before it is converted (the conversion copies it)."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)) or 0 in array.shape[:2]:
        raise ImageError("<array>", f"unsupported array shape {array.shape}; expected HxW or HxWx3")
    if array.dtype.kind not in "uif":
        raise ImageError("<array>", f"unsupported array dtype {array.dtype}; expected integers or floats")
    _check_size("<array>", (array.shape[1], array.shape[0]), max_pixels)


def _array_to_rgb(array: np.ndarray) -> Image.Image:
    """Arrays from callers (checked by _check_array): uint8 as is, uint16 scaled by 1/257, floats in 0..1 by 255;
    other integers as is unless they exceed 255 (then taken as 16-bit)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        if array.dtype == np.uint16 or (np.issubdtype(array.dtype, np.integer) and values.max() > 255):
            values = values / 257.0
        elif np.issubdtype(array.dtype, np.floating) and values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        array = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    image = Image.fromarray(array)
    return _to_rgb(image) if image.mode != "RGB" else image
