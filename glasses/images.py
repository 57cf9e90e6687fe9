"""Read any image a user may hand us into an RGB PIL image, or fail with a reason a person understands.

Every failure is an `ImageError` whose `reason` is short plain words ("not an image", "truncated JPEG",
"image too large: 30000x30000"), so the CLI, the app and training can report it per file and carry on.
"""
from __future__ import annotations

import io
import os
import threading
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# 100 megapixels: above any phone camera's default mode, far below what exhausts memory when decoded.
DEFAULT_MAX_PIXELS = 100_000_000

ImageSource = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]

_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
_bomb_limit_lock = threading.Lock()


class ImageError(Exception):
    """An input that cannot be used as a photo; `reason` is meant for the person who supplied it."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def load_image(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Return `source` as an 8-bit RGB image, oriented as a viewer shows it (EXIF orientation applied).

    `source` may be a path, the bytes of an encoded file, a PIL image, or an HxWx3 / HxW uint8 array.
    Transparent pixels are composited over white; 16-bit images are scaled, not clipped, to 8 bits.
    """
    if isinstance(source, np.ndarray):
        return _array_to_rgb(source)
    if isinstance(source, Image.Image):
        name, image = getattr(source, "filename", "") or "<image>", source
        _check_size(image, name, max_pixels)
    else:
        name = "<bytes>" if isinstance(source, bytes) else str(source)
        if isinstance(source, bytes) and not source:
            raise ImageError(name, "empty file")
        if not isinstance(source, bytes):
            _check_file(name)
        image = _open(io.BytesIO(source) if isinstance(source, bytes) else name, name, max_pixels)
    try:
        image.load()
    except Image.DecompressionBombError:
        raise ImageError(name, f"image too large: {image.width}x{image.height}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(name, _decode_failure(image.format, err)) from None
    return _to_rgb(_apply_exif_orientation(image))


def _check_file(name: str) -> None:
    path = Path(name)
    if not path.exists():
        raise ImageError(name, "file not found")
    if path.is_dir():
        raise ImageError(name, "is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise ImageError(name, "permission denied")
    if path.stat().st_size == 0:
        raise ImageError(name, "empty file")


def _open(fp, name: str, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse oversized images before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(fp)
    except UnidentifiedImageError:
        raise ImageError(name, "not an image") from None
    except Image.DecompressionBombError:
        width, height = _size_beyond_pillow_limit(fp)
        raise ImageError(name, f"image too large: {width}x{height}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(name, _decode_failure(_format_from_magic(fp), err)) from None
    _check_size(image, name, max_pixels)
    return image


def _check_size(image: Image.Image, name: str, max_pixels: int) -> None:
    if image.width * image.height > max_pixels:
        raise ImageError(name, f"image too large: {image.width}x{image.height} "
                               f"(limit {max_pixels / 1e6:g} megapixels)")
    if image.width == 0 or image.height == 0:
        raise ImageError(name, f"image has no pixels: {image.width}x{image.height}")


_MAGIC = {b"\xff\xd8": "JPEG", b"\x89PNG": "PNG", b"GIF8": "GIF", b"BM": "BMP", b"RIFF": "WEBP"}


def _format_from_magic(fp) -> str | None:
    """The format a file claims by its first bytes, for naming what broke when Pillow fails in the header."""
    if isinstance(fp, io.BytesIO):
        head = fp.getvalue()[:4]
    else:
        with open(fp, "rb") as f:
            head = f.read(4)
    return next((fmt for magic, fmt in _MAGIC.items() if head.startswith(magic)), None)


def _size_beyond_pillow_limit(fp) -> tuple[int, int]:
    """Read the header size of an image Pillow refused as a decompression bomb, to say how big it is."""
    if isinstance(fp, io.BytesIO):
        fp.seek(0)
    with _bomb_limit_lock:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(fp) as image:
                return image.size
        finally:
            Image.MAX_IMAGE_PIXELS = saved


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
    """Rotate as the EXIF orientation tag says; a malformed EXIF block leaves the pixels as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - broken metadata must not cost the user a readable photo
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES:
        scaled = np.asarray(image).astype(np.float32) / 257.0
        return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "F":
        return _array_to_rgb(np.asarray(image))
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _array_to_rgb(array: np.ndarray) -> Image.Image:
    """Arrays from callers: uint8 as is, uint16 scaled by 1/257, floats in 0..1 by 255; other integers as is
    unless they exceed 255 (then taken as 16-bit)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or 0 in array.shape[:2]:
        raise ImageError("<array>", f"unsupported array shape {array.shape}; expected HxW or HxWx3")
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        if array.dtype == np.uint16 or (np.issubdtype(array.dtype, np.integer) and values.max() > 255):
            values = values / 257.0
        elif np.issubdtype(array.dtype, np.floating) and values.min() >= 0.0 and values.max() <= 1.0:
            values = values * 255.0
        array = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    image = Image.fromarray(array)
    return _to_rgb(image) if image.mode != "RGB" else image
