"""Read any image a user may hand us into an RGB PIL image, or fail with a reason a person understands.

Every failure is an `ImageError` whose `reason` is short plain words ("not an image", "truncated JPEG",
"image too large: 30000x30000 (limit 100 megapixels)"), so the CLI, the app and training can report it per file
and carry on.

`load_image` returns the whole image. `load_image_scaled` returns it no larger than a caller needs (the face
detector looks at 2048 pixels at most): a JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself, other
formats are decoded whole and then averaged down by a whole factor, band by band, before the 3-byte RGB copy is
made. Kept at 2048 pixels or more, a 9000x9000 image is 15 MB of RGB (2250x2250: a JPEG decoded at 1/4, a PNG
averaged by 4) instead of 243 MB. Either way, an image larger than a few megapixels is converted to RGB band by
band, so that converting it never copies it whole in its own mode first (a transparent one would be copied
four times over: 1.2 GB for 9000x9000).
"""
from __future__ import annotations

import io
import os
import stat
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from glasses.config import DEFAULTS
from glasses.errors import GlassesError

DEFAULT_MAX_PIXELS = DEFAULTS.max_pixels   # 100 megapixels; why: glasses/config.py

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]
# The file name suffixes that say image: a folder's (or a zip's) files named so are taken without opening them.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm",
                  ".pnm", ".jfif"}

_SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N"}
# Pillow reads 16-bit PGM/PPM samples (whatever the file's maxval, rescaled to 0..65535) into 32-bit mode "I".
_FORMATS_WIDENING_16_BIT = {"PPM"}
_bomb_limit_lock = threading.Lock()
_ROTATING_ORIENTATIONS = range(2, 9)   # EXIF orientations 2-8 flip or turn the stored pixels; 1 leaves them
_TRANSPOSE_FOR_ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,   # as Pillow's
                              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,    # exif_transpose
                              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                              8: Image.Transpose.ROTATE_90}
_SIDE_SWAPPING_ORIENTATIONS = {5, 6, 7, 8}
_JPEG_DRAFT_FACTORS = (8, 4, 2)     # the scales libjpeg decodes at directly
_DRAFTABLE_FORMATS = {"JPEG", "MPO"}   # MPO: a phone's JPEG with extra frames after the first, which is the photo
# Pixels per band when a large image is converted to RGB band by band: a few MB, whatever the mode.
_BAND_PIXELS = 1 << 22


class ImageError(GlassesError):
    """An input that cannot be used as a photo; `reason` is meant for the person who supplied it."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class ScaledImage:
    """An image as a viewer shows it, held as `image` (RGB), which may be smaller than the image itself:
    `full_size` is the size, as a viewer shows it, of the image at full resolution. Boxes go between the two
    with `to_full` and `from_full`."""

    image: Image.Image
    full_size: tuple[int, int]

    @property
    def reduced(self) -> bool:
        return self.image.size != self.full_size

    @property
    def scale(self) -> float:
        """Pixels of `image` per pixel of the full image, along the axis that was reduced most (1.0: not reduced)."""
        return min(self.image.width / self.full_size[0], self.image.height / self.full_size[1])

    def to_full(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box (x1, y1, x2, y2) in pixels of `image` as pixels of the full image, inside it."""
        if not self.reduced:
            return tuple(box)
        width, height = self.full_size
        sx, sy = width / self.image.width, height / self.image.height
        x1, y1, x2, y2 = box
        return (min(x1 * sx, width), min(y1 * sy, height), min(x2 * sx, width), min(y2 * sy, height))

    def from_full(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box in pixels of the full image as pixels of `image`."""
        if not self.reduced:
            return tuple(box)
        sx, sy = self.image.width / self.full_size[0], self.image.height / self.full_size[1]
        x1, y1, x2, y2 = box
        return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def load_image(source: ImageSource, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Return `source` as an 8-bit RGB image, oriented as a viewer shows it (EXIF orientation applied).

    `source` may be a path, the bytes of an encoded file (bytes, bytearray or memoryview), a PIL image, or an
    HxWx3 / HxW uint8 array; another type raises TypeError. Transparent pixels are composited over white; 16-bit
    images are scaled, not clipped, to 8 bits.
    """
    return _load(source, max_pixels, at_least=None).image


def load_image_scaled(source: ImageSource, at_least: int | Callable[[tuple[int, int]], int],
                      max_pixels: int = DEFAULT_MAX_PIXELS) -> ScaledImage:
    """`source` read as `load_image` reads it (same sources, same errors, same limit, which applies to the full
    size), but held at the smallest scale the reading allows whose longer side is still `at_least` pixels or more.
    `at_least` may be a function of the image's stored size (width, height), for what depends on it.

    A JPEG is decoded at 1/2, 1/4 or 1/8 scale where one of them is large enough (libjpeg's DCT scaling: a
    fraction of the time and memory of a full decode); whatever is left over, and any other format, decoded at
    full size, is averaged down by the largest whole factor that keeps `at_least` (Image.reduce), band by band
    while it is converted to RGB, so that no full-size RGB copy is made. An image whose longer side is under
    twice `at_least` is read exactly as `load_image` reads it (`reduced` is False).
    """
    if not callable(at_least) and at_least < 1:
        raise ValueError(f"at_least must be a positive number of pixels, got {at_least}")
    return _load(source, max_pixels, at_least)


def _load(source: ImageSource, max_pixels: int, at_least: int | Callable | None) -> ScaledImage:
    """`at_least` None: the whole image."""
    if isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    if isinstance(source, np.ndarray):
        _check_array(source, max_pixels)
        rgb = _array_to_rgb(source)
        factor = _reduce_factor(rgb.size, _resolve(at_least, rgb.size))
        return ScaledImage(rgb.reduce(factor) if factor > 1 else rgb, rgb.size)
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
    stored_size = image.size
    at_least = _resolve(at_least, stored_size)
    if at_least is not None and not isinstance(source, Image.Image):  # a caller's image is never drafted: that
        _draft(image, at_least)                                        # would change it under the caller
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_large(name, image.size, max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(name, _decode_failure(image.format, err)) from None
    factor = _reduce_factor(image.size, at_least)
    if factor == 1 and image.size == stored_size:
        rgb = _reduced_rgb(_apply_exif_orientation(image), 1, image.format)
        return ScaledImage(rgb, rgb.size)
    orientation = _orientation(image)
    rgb = _reduced_rgb(image, factor, image.format)
    if orientation in _ROTATING_ORIENTATIONS:
        rgb = rgb.transpose(_TRANSPOSE_FOR_ORIENTATION[orientation])
    if orientation in _SIDE_SWAPPING_ORIENTATIONS:
        stored_size = stored_size[::-1]
    return ScaledImage(rgb, stored_size)


def _resolve(at_least: int | Callable | None, size: tuple[int, int]) -> int | None:
    if not callable(at_least):
        return at_least
    value = int(at_least(size))
    if value < 1:
        raise ValueError(f"at_least must be a positive number of pixels, got {value} for size {size}")
    return value


def _reduce_factor(size: tuple[int, int], at_least: int | None) -> int:
    """The largest whole factor that keeps the longer side of `size` at `at_least` pixels or more."""
    return max(1, max(size) // at_least) if at_least else 1


def _draft(image: Image.Image, at_least: int) -> None:
    """Have a JPEG decoded at the smallest of libjpeg's scales (1/8, 1/4, 1/2) whose longer side is still
    `at_least` or more, in the image's own mode. Other formats, and JPEGs that libjpeg cannot scale (Pillow
    declines, e.g. when the file has several tiles), are left to be decoded whole."""
    if image.format not in _DRAFTABLE_FORMATS:
        return
    wanted = _reduce_factor(image.size, at_least)
    factor = next((f for f in _JPEG_DRAFT_FACTORS if f <= wanted and min(image.size) >= f), None)
    if factor is None:
        return
    # Pillow picks the largest scale whose result is no smaller than the size asked for: ask for exactly 1/factor.
    try:
        image.draft(None, (image.width // factor, image.height // factor))
    except Exception:  # noqa: BLE001 - a JPEG Pillow cannot draft is still readable whole
        pass


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


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation, 1 (as stored) when absent or unreadable."""
    try:
        return image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # noqa: BLE001 - broken metadata must not cost the user a readable photo
        return 1


def _reduced_rgb(image: Image.Image, factor: int, stored_format: str | None) -> Image.Image:
    """`_to_rgb(image).reduce(factor)` (`factor` 1: `_to_rgb(image)`), pixel for pixel, without the whole-image
    copies that converting makes (a transparent image's: RGBA, a white background, their composite, then RGB;
    1.2 GB for 9000x9000): an image of more than one band's pixels, other than RGB, is converted in bands of
    whole multiples of `factor` rows, each averaged down before the next is converted. Samples whose scaling
    depends on the whole image's values (32-bit "I" and "F") are scaled by the whole image's extrema, as
    `_to_rgb` scales them."""
    if image.mode == "RGB":
        return image.reduce(factor) if factor > 1 else image
    width, height = image.size
    if factor == 1 and width * height <= _BAND_PIXELS:
        return _to_rgb(image, stored_format)
    extrema = image.getextrema() if image.mode in ("I", "F") else None
    rows = factor * max(1, _BAND_PIXELS // (width * factor))
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        band = _to_rgb(image.crop((0, top, width, min(height, top + rows))), stored_format, extrema)
        reduced.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return reduced


def _to_rgb(image: Image.Image, stored_format: str | None = None,
            extrema: tuple[float, float] | None = None) -> Image.Image:
    """`stored_format`: the format the pixels were read from (EXIF rotation drops `image.format`). `extrema`:
    for a band of a larger "I" or "F" image, the whole image's (lowest, highest) sample, which sets the scaling."""
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES or (image.mode == "I" and stored_format in _FORMATS_WIDENING_16_BIT):
        scaled = np.asarray(image).astype(np.float32) / 257.0
        return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode in ("I", "F"):  # 32-bit samples whose depth the file does not say (TIFF): scaled as arrays are
        return _array_to_rgb(np.asarray(image), extrema)
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


def _array_to_rgb(array: np.ndarray, extrema: tuple[float, float] | None = None) -> Image.Image:
    """Arrays from callers (checked by _check_array): uint8 as is, uint16 scaled by 1/257, floats in 0..1 by 255;
    other integers as is unless they exceed 255 (then taken as 16-bit). `extrema`: the (lowest, highest) value
    that decides the scaling, when `array` is a band of a larger image; the array's own when None."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        if array.dtype == np.uint16:
            values = values / 257.0
        else:
            lowest, highest = extrema if extrema is not None else (values.min(), values.max())
            if np.issubdtype(array.dtype, np.integer) and highest > 255:
                values = values / 257.0
            elif np.issubdtype(array.dtype, np.floating) and lowest >= 0.0 and highest <= 1.0:
                values = values * 255.0
        array = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    image = Image.fromarray(array)
    return _to_rgb(image) if image.mode != "RGB" else image
