"""glasses.images.load_image on every kind of input a user may hand us, all generated here."""
from __future__ import annotations

import io
import os
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image

import glasses.images
from glasses.images import DEFAULT_MAX_PIXELS, ImageError, ScaledImage, load_image, load_image_scaled

ORIENTATION = 0x0112


# ---------------------------------------------------------------- helpers

def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    """Incompressible content, so that cutting an encoded file in half cuts into the pixel data."""
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def gradient(width: int, height: int) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width]
    return Image.fromarray(np.stack([x * 2, y * 3, x + y], -1).astype(np.uint8))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR is patched to claim width x height (CRC fixed, so only the size is a lie)."""
    data = bytearray(encode(Image.new("RGB", (4, 4)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def finished_within(seconds: float, work):
    """work()'s result, failing the test (instead of hanging it) when it has not returned after `seconds`."""
    result = []
    worker = threading.Thread(target=lambda: result.append(work()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"still running after {seconds} s"
    return result[0]


def reason_of(source, **kwargs) -> str:
    with pytest.raises(ImageError) as caught:
        load_image(source, **kwargs)
    return caught.value.reason


def pixels(image: Image.Image) -> np.ndarray:
    assert image.mode == "RGB"
    return np.asarray(image).astype(int)


# ---------------------------------------------------------------- files that are not usable images

def test_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are not the pixels you are looking for\n")
    assert reason_of(path) == "not an image"
    assert reason_of(str(path)) == "not an image"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert reason_of(path) == "empty file"
    assert reason_of(b"") == "empty file"


def test_missing_file(tmp_path):
    assert reason_of(tmp_path / "nowhere.jpg") == "file not found"


def test_folder(tmp_path):
    assert "folder" in reason_of(tmp_path)


def test_fifo_and_device_are_not_regular_files_and_never_block(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)   # nobody writes to it: opening it to read would wait for ever
    reasons = finished_within(10, lambda: [reason_of(fifo), reason_of("/dev/null")])
    assert reasons == ["not a regular file", "not a regular file"]


def test_file_name_too_long(tmp_path):
    assert reason_of(tmp_path / ("x" * 300 + ".jpg")) == "file name too long"


def test_error_carries_source_and_reason(tmp_path):
    path = tmp_path / "nowhere.jpg"
    with pytest.raises(ImageError) as caught:
        load_image(path)
    assert caught.value.source == str(path)
    assert str(caught.value) == f"{path}: file not found"


def test_truncated_jpeg(tmp_path):
    data = encode(noise(64, 64), "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert reason_of(path) == "truncated JPEG"
    assert reason_of(data[: len(data) // 2]) == "truncated JPEG"


def test_truncated_png():
    data = encode(noise(64, 64), "PNG")
    assert reason_of(data[: len(data) // 2]) == "truncated PNG"


def test_corrupt_png(tmp_path):
    data = bytearray(encode(gradient(96, 64), "PNG"))
    start = data.find(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8:start - 4])[0]
    middle = start + length // 2
    for k in range(middle - 16, middle + 16):  # flip 32 bytes inside the zlib stream; the chunk CRC is not checked
        data[k] ^= 0xFF
    path = tmp_path / "corrupt.png"
    path.write_bytes(bytes(data))
    reason = reason_of(path)
    # Pillow's zlib decoder says "broken data stream" or "unrecognized data stream contents" (bad filter byte).
    assert reason.startswith("corrupt PNG: "), reason
    assert "data stream" in reason


@pytest.mark.parametrize("as_file", [True, False], ids=["path", "bytes"])
def test_decompression_bomb_is_refused_with_its_size(tmp_path, as_file):
    data = png_claiming_size(30000, 30000)
    source = data
    if as_file:
        source = tmp_path / "bomb.png"
        source.write_bytes(data)
    assert reason_of(source) == "image too large: 30000x30000 (limit 100 megapixels)"  # past Pillow's own limit too
    assert Image.MAX_IMAGE_PIXELS is not None  # the lock-protected lift of Pillow's limit was undone


def test_max_pixels_above_pillows_bomb_limit_is_the_limit_that_applies():
    """200 megapixels is past Pillow's own limit (about 179); with max_pixels above it, decoding starts (and this
    4x4 PNG claiming 20000x10000 turns out truncated) instead of being refused as too large."""
    assert 20000 * 10000 > 2 * Image.MAX_IMAGE_PIXELS
    assert reason_of(png_claiming_size(20000, 10000), max_pixels=300_000_000) == "truncated PNG"
    assert reason_of(png_claiming_size(20000, 10000), max_pixels=150_000_000) == \
        "image too large: 20000x10000 (limit 150 megapixels)"


def test_over_default_limit_but_under_pillows_bomb_limit():
    assert reason_of(png_claiming_size(12000, 10000)) == "image too large: 12000x10000 (limit 100 megapixels)"
    assert DEFAULT_MAX_PIXELS == 100_000_000


def test_explicit_max_pixels():
    data = encode(Image.new("RGB", (100, 100)), "PNG")
    assert reason_of(data, max_pixels=5000) == "image too large: 100x100 (limit 0.005 megapixels)"
    assert load_image(data, max_pixels=10_000).size == (100, 100)  # exactly at the limit is fine


# ---------------------------------------------------------------- colour modes and formats

def test_cmyk_jpeg_comes_back_rgb_with_true_colours(tmp_path):
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 8), (0, 255, 255, 0)).save(path, "JPEG", quality=95)  # pure red in ink terms
    assert Image.open(path).mode == "CMYK"
    image = load_image(path)
    assert image.size == (16, 8)
    assert np.abs(pixels(image) - (255, 0, 0)).max() <= 10


def test_16bit_grayscale_png_is_scaled_not_clipped(tmp_path):
    path = tmp_path / "gray16.png"
    Image.fromarray(np.full((10, 12), 32896, np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    image = load_image(path)
    assert image.size == (12, 10)
    assert (pixels(image) == 128).all()


def test_16bit_rgb_png():
    # Pillow cannot write 16-bit RGB, so write the PNG by hand: bit depth 16, colour type 2.
    width, height = 6, 5
    values = np.zeros((height, width, 3), ">u2")
    values[..., 0], values[..., 1], values[..., 2] = 65535, 32896, 0
    raw = b"".join(b"\x00" + values[row].tobytes() for row in range(height))
    data = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))
    image = load_image(data)
    assert image.size == (width, height)
    assert np.abs(pixels(image) - (255, 128, 0)).max() <= 1


def test_32bit_integer_tiff_with_8bit_values_is_not_darkened(tmp_path):
    path = tmp_path / "int32.tif"
    values = np.arange(200, dtype=np.int32).reshape(10, 20)
    Image.fromarray(values).save(path)
    assert Image.open(path).mode == "I"
    assert (pixels(load_image(path)) == values[:, :, None]).all()


@pytest.mark.parametrize("value, expected", [(32896, 128), (200, 1)], ids=["mid-grey", "dark"])
def test_16bit_pgm_is_scaled_by_its_depth_not_its_values(tmp_path, value, expected):
    """Pillow reads 16-bit PGM into the same 32-bit mode "I" as the TIFF above; a dark one must stay dark."""
    path = tmp_path / "gray16.pgm"
    Image.fromarray(np.full((4, 6), value, np.uint16)).save(path)
    assert path.read_bytes().startswith(b"P5\n6 4\n65535\n")
    assert Image.open(path).mode == "I"
    assert (pixels(load_image(path)) == expected).all()
    assert (pixels(load_image(Image.open(path))) == expected).all()


def test_palette_png_transparency_becomes_white(tmp_path):
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (5, 0, 10, 10))  # right half opaque red, left half index 0 = transparent black
    path = tmp_path / "palette.png"
    image.save(path, transparency=0)
    out = pixels(load_image(path))
    assert (out[:, :5] == 255).all()
    assert (out[:, 5:] == (255, 0, 0)).all()


def test_rgba_png_transparent_region_becomes_white(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:, :5] = (10, 20, 30, 0)      # fully transparent: its colour must not show
    rgba[:, 5:] = (0, 0, 255, 255)
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba).save(path)
    out = pixels(load_image(path))
    assert (out[:, :5] == 255).all()
    assert (out[:, 5:] == (0, 0, 255)).all()


def test_binary_pgm_p5(tmp_path):
    gray = np.arange(200, dtype=np.uint8).reshape(10, 20)
    path = tmp_path / "gray.pgm"
    Image.fromarray(gray).save(path)
    assert path.read_bytes()[:2] == b"P5"
    out = pixels(load_image(path))
    assert out.shape == (10, 20, 3)
    assert (out == gray[:, :, None]).all()


def test_plain_text_pgm_p2(tmp_path):
    path = tmp_path / "plain.pgm"
    path.write_bytes(b"P2\n# a comment\n3 2\n255\n0 128 255\n10 20 30\n")
    image = load_image(path)
    assert image.size == (3, 2)
    assert (pixels(image) == np.array([[0, 128, 255], [10, 20, 30]])[:, :, None]).all()


def test_gif(tmp_path):
    path = tmp_path / "red.gif"
    Image.new("RGB", (9, 7), (255, 0, 0)).save(path)
    image = load_image(path)
    assert image.size == (9, 7)
    assert (pixels(image) == (255, 0, 0)).all()


# ---------------------------------------------------------------- EXIF orientation

def marked_jpeg(orientation=None, exif: bytes | None = None) -> bytes:
    """A 40x20 (w x h) black JPEG with a red 6x6 mark in its stored top-left corner."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:6, :6] = (255, 0, 0)
    if orientation is not None:
        tags = Image.Exif()
        tags[ORIENTATION] = orientation
        exif = tags.tobytes()
    params = {"quality": 95}
    if exif is not None:
        params["exif"] = exif
    return encode(Image.fromarray(stored), "JPEG", **params)


def is_red(pixel) -> bool:
    return pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


@pytest.mark.parametrize("orientation, size, corner", [
    (1, (40, 20), "top-left"),
    (3, (40, 20), "bottom-right"),   # rotated 180
    (6, (20, 40), "top-right"),      # a viewer rotates 90 degrees clockwise
    (8, (20, 40), "bottom-left"),    # a viewer rotates 90 degrees counter-clockwise
])
def test_exif_orientation_is_applied(tmp_path, orientation, size, corner):
    path = tmp_path / "rotated.jpg"
    path.write_bytes(marked_jpeg(orientation))
    image = load_image(path)
    assert image.size == size
    out = pixels(image)
    corners = {"top-left": out[2, 2], "top-right": out[2, -3], "bottom-left": out[-3, 2], "bottom-right": out[-3, -3]}
    assert [name for name, pixel in corners.items() if is_red(pixel)] == [corner]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("exif", [
    b"not an exif block at all",
    b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff\x01\x12",      # IFD claims 65535 entries, holds none
    b"Exif\x00\x00II\x2a\x00\xff\xff\xff\x7f",                     # IFD offset far past the end
], ids=["garbage", "too-many-entries", "bad-offset"])
def test_malformed_exif_does_not_fail_the_load(exif):
    image = load_image(marked_jpeg(exif=exif))
    assert image.size == (40, 20)
    assert is_red(pixels(image)[2, 2])


def test_out_of_range_orientation_is_ignored():
    image = load_image(marked_jpeg(99))
    assert image.size == (40, 20)
    assert is_red(pixels(image)[2, 2])


# ---------------------------------------------------------------- other sources: bytes, PIL images, arrays

def test_bytes_input():
    image = load_image(encode(Image.new("RGB", (7, 5), (1, 2, 3)), "PNG"))
    assert image.size == (7, 5)
    assert (pixels(image) == (1, 2, 3)).all()


def test_garbage_bytes():
    assert reason_of(b"hello, world") == "not an image"


def test_pil_image_input():
    image = load_image(Image.new("L", (6, 4), 77))
    assert image.mode == "RGB" and image.size == (6, 4)
    assert (pixels(image) == 77).all()


def test_an_image_already_loaded_is_not_copied_again():
    """The app and the CLI's --overlay load a photo, then hand it to the Predictor, which loads it again."""
    loaded = load_image(marked_jpeg(orientation=6))
    assert load_image(loaded) is loaded


def test_uint8_rgb_array():
    array = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = load_image(array)
    assert image.size == (7, 5)
    assert (pixels(image) == array).all()


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 1)])
def test_uint8_gray_array(shape):
    image = load_image(np.full(shape, 42, np.uint8))
    assert image.size == (7, 5)
    assert (pixels(image) == 42).all()


def test_uint16_array_is_scaled():
    image = load_image(np.full((5, 7), 32896, np.uint16))
    assert (pixels(image) == 128).all()


def test_float_array_in_unit_range_is_scaled():
    array = np.zeros((5, 7, 3))
    array[..., 0], array[..., 1] = 1.0, 0.5
    assert (pixels(load_image(array)) == (255, 128, 0)).all()


def test_rgba_array_composited_over_white():
    array = np.zeros((5, 7, 4), np.uint8)  # all transparent
    assert (pixels(load_image(array)) == 255).all()


@pytest.mark.parametrize("shape", [(5, 7, 5), (5, 7, 2), (12,), (2, 5, 7, 3), (0, 7, 3), (5, 0)])
def test_bad_array_shape(shape):
    assert "unsupported array shape" in reason_of(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("array", [np.array([[None, 1]]), np.array([["a", "b"]]), np.zeros((5, 7), bool)],
                         ids=["object", "strings", "bool"])
def test_array_of_other_than_numbers(array):
    assert reason_of(array) == f"unsupported array dtype {array.dtype}; expected integers or floats"


def test_array_over_max_pixels_is_refused_like_a_file():
    assert reason_of(np.zeros((100, 200, 3), np.uint8), max_pixels=10_000) == \
        "image too large: 200x100 (limit 0.01 megapixels)"


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_bytearray_and_memoryview_are_read_like_bytes(wrap):
    image = load_image(wrap(encode(Image.new("RGB", (7, 5), (1, 2, 3)), "PNG")))
    assert image.size == (7, 5)
    assert (pixels(image) == (1, 2, 3)).all()
    assert reason_of(wrap(b"")) == "empty file"


@pytest.mark.parametrize("source", [io.BytesIO(b"GIF89a"), None, 42], ids=["BytesIO", "None", "int"])
def test_unsupported_source_type_says_so(source):
    with pytest.raises(TypeError, match=f"cannot read an image from a {type(source).__name__}"):
        load_image(source)


# ---------------------------------------------------------------- review fixes: same guarantees for every source type

def test_jpeg_cut_inside_its_header_is_called_truncated():
    data = encode(gradient(16, 16), "JPEG")
    assert reason_of(data[:40]) == "truncated JPEG"


def test_opened_pil_image_gets_exif_rotation_and_limits(tmp_path):
    path = tmp_path / "rotated.jpg"
    path.write_bytes(marked_jpeg(6))
    assert load_image(Image.open(path)).size == (20, 40)
    assert reason_of(Image.open(path), max_pixels=100).startswith("image too large: 40x20")


def test_opened_pil_image_that_is_truncated_raises_image_error(tmp_path):
    data = encode(noise(64, 64), "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    assert reason_of(Image.open(path)) == "truncated JPEG"


def test_array_scaling_follows_the_dtype_not_the_values():
    dark16 = np.full((4, 4), 200 * 257 // 255, np.uint16)     # a dark 16-bit image: every value under 255
    assert pixels(load_image(dark16))[0, 0].tolist() == [1, 1, 1]
    mask = np.array([[0, 1], [1, 0]], np.int64)                # small integers stay as they are
    assert pixels(load_image(mask))[0, 1].tolist() == [1, 1, 1]


# ---------------------------------------------------------------- reading large images at reduced scale

@pytest.fixture
def conversions(monkeypatch):
    """The (size, mode) of every image Image.convert is called on, and the size of every image it returns."""
    calls = []
    original = Image.Image.convert

    def spy(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls.append((self.size, result.size))
        return result

    monkeypatch.setattr(Image.Image, "convert", spy)
    return calls


def test_large_jpeg_is_decoded_at_reduced_scale_by_libjpeg(tmp_path):
    """4000x3000, at least 700 wanted: a whole-factor reduce after a full decode would give 800x600 (4000 // 700
    = 5); libjpeg's 1/4 scale gives 1000x750, and nothing is left for a reduce to take."""
    path = tmp_path / "big.jpg"
    gradient(4000, 3000).save(path, quality=90)
    scaled = load_image_scaled(path, 700)
    assert scaled.image.size == (1000, 750) and scaled.image.mode == "RGB"
    assert scaled.full_size == (4000, 3000) and scaled.reduced
    assert scaled.scale == 0.25
    full = load_image(path).reduce(4)
    assert np.abs(pixels(scaled.image) - pixels(full)).mean() < 2


def test_jpeg_beyond_libjpegs_scales_is_reduced_further(tmp_path):
    path = tmp_path / "huge.jpg"
    gradient(8000, 500).save(path, quality=90)
    scaled = load_image_scaled(path, 400)          # 1/8 by libjpeg (1000x63), then halved: 500x32
    assert scaled.image.size == (500, 32) and scaled.full_size == (8000, 500)


def test_large_grayscale_png_is_reduced_before_it_becomes_rgb(tmp_path, conversions):
    """The 3-byte RGB copy is made of bands already averaged down, never of the whole 6000x4000 image."""
    path = tmp_path / "black.png"
    Image.new("L", (6000, 4000), 0).save(path)
    scaled = load_image_scaled(path, 1000)
    assert scaled.image.size == (1000, 667) and scaled.full_size == (6000, 4000)
    assert (pixels(scaled.image) == 0).all()
    assert conversions and all(size[0] < 6000 or size[1] < 4000 for size, _ in conversions), conversions


@pytest.mark.parametrize("mode", ["L", "1", "P", "RGBA", "LA", "I;16", "I", "F", "CMYK"])
def test_banded_conversion_matches_converting_the_whole_image(monkeypatch, mode):
    """load_image and load_image_scaled convert large images band by band: pixel for pixel what converting the
    whole image gives (then reduced), with bands far smaller than the image; 32-bit samples scaled by the whole
    image's values (one bright pixel in the last band darkens every band, as it does the whole image)."""
    rng = np.random.default_rng(3)
    if mode in ("I;16", "I", "F"):
        values = {"I;16": rng.integers(0, 65536, (301, 257)).astype(np.uint16),
                  "I": rng.integers(0, 256, (301, 257)).astype(np.int32),
                  "F": rng.random((301, 257)).astype(np.float32)}[mode]
        if mode == "I":
            values[300, 256] = 40000
        image = Image.fromarray(values)
    else:
        image = Image.fromarray(rng.integers(0, 256, (301, 257, 4), dtype=np.uint8), "RGBA").convert(mode)
        if mode == "P":
            image.info["transparency"] = 5
    whole = glasses.images._to_rgb(image.copy())
    monkeypatch.setattr(glasses.images, "_BAND_PIXELS", 3000)
    assert (pixels(load_image(image)) == pixels(whole)).all()
    scaled = load_image_scaled(image, 75)         # 301 // 75: reduced by 4
    assert scaled.image.size == whole.reduce(4).size == (65, 76)
    assert (pixels(scaled.image) == pixels(whole.reduce(4))).all()


def test_a_large_transparent_image_is_made_rgb_band_by_band(tmp_path, conversions):
    """Compositing a whole 3000x2000 RGBA image over white would make four copies of it; bands make none."""
    path = tmp_path / "clear.png"
    Image.new("RGBA", (3000, 2000), (0, 0, 0, 0)).save(path)
    image = load_image(path)
    assert image.size == (3000, 2000) and (pixels(image) == 255).all()
    assert conversions and all(size != (3000, 2000) for size, _ in conversions), conversions


def test_small_images_are_read_exactly_as_load_image_reads_them(tmp_path):
    path = tmp_path / "photo.jpg"
    noise(1999, 1500).save(path, quality=90)
    scaled = load_image_scaled(path, 1000)          # under twice 1000 on the longer side: not reduced
    assert not scaled.reduced and scaled.full_size == (1999, 1500) and scaled.scale == 1.0
    assert (pixels(scaled.image) == pixels(load_image(path))).all()
    loaded = load_image(path)
    assert load_image_scaled(loaded, 1000).image is loaded


@pytest.mark.parametrize("orientation, full_size", [(3, (3200, 1600)), (6, (1600, 3200)), (8, (1600, 3200))])
def test_reduced_jpeg_is_turned_as_exif_says(orientation, full_size):
    """Stored 3200x1600 with a red mark in its top-left corner; held at 1/4 scale, turned like load_image's."""
    stored = np.zeros((1600, 3200, 3), np.uint8)
    stored[:200, :200] = (255, 0, 0)
    tags = Image.Exif()
    tags[ORIENTATION] = orientation
    data = encode(Image.fromarray(stored), "JPEG", quality=95, exif=tags.tobytes())
    scaled = load_image_scaled(data, 800)
    assert scaled.full_size == full_size == load_image(data).size
    assert scaled.image.size == (full_size[0] // 4, full_size[1] // 4)
    whole = pixels(load_image(data).reduce(4))
    assert np.abs(pixels(scaled.image) - whole).mean() < 2


def test_reduced_read_keeps_load_images_limit_and_errors(tmp_path):
    assert reason_of(png_claiming_size(20000, 20000)) == "image too large: 20000x20000 (limit 100 megapixels)"
    with pytest.raises(ImageError) as caught:
        load_image_scaled(png_claiming_size(20000, 20000), 1000)
    assert caught.value.reason == "image too large: 20000x20000 (limit 100 megapixels)"
    with pytest.raises(ImageError) as caught:
        load_image_scaled(b"hello, world", 1000)
    assert caught.value.reason == "not an image"


def test_a_callers_unloaded_jpeg_is_not_drafted_under_it(tmp_path):
    path = tmp_path / "big.jpg"
    gradient(3000, 2000).save(path, quality=90)
    opened = Image.open(path)
    scaled = load_image_scaled(opened, 500)
    opened.load()
    assert opened.size == (3000, 2000)
    assert scaled.image.size == (500, 334) and scaled.full_size == (3000, 2000)


def test_scaled_image_maps_boxes_both_ways():
    scaled = ScaledImage(Image.new("RGB", (250, 100)), (1000, 400))
    assert scaled.to_full((10, 20, 30, 40)) == (40, 80, 120, 160)
    assert scaled.from_full((40, 80, 120, 160)) == (10, 20, 30, 40)
    assert scaled.to_full((0, 0, 251, 101)) == (0, 0, 1000, 400)     # never past the full image's edge
    whole = ScaledImage(Image.new("RGB", (7, 5)), (7, 5))
    assert whole.to_full((1.5, 2, 3, 4)) == (1.5, 2, 3, 4) and not whole.reduced
