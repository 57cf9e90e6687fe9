"""Photos that hold no face, for counting false faces: scikit-image's sample images without a person or an
animal, and synthetic images made from a seed (gradients, noise, stripes, checkerboards, 256 px to 12 MP).

Every image comes back as a uint8 RGB PIL image, so the detector sees what it would from a decoded file.
scikit-image is a bench-only (dev) dependency; its samples that need a download (pooch) are skipped, so this
runs offline.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

# skimage.data samples with no person and no animal in them (camera, astronaut, cat, chelsea, horse and
# lfw_subset have one). Several are not photos at all (page, text, logo): shapes a detector may still take for
# a face.
SKIMAGE_SAMPLES = ("coffee", "rocket", "hubble_deep_field", "brick", "grass", "gravel", "coins", "moon", "page",
                   "text", "clock", "logo", "checkerboard", "colorwheel", "immunohistochemistry", "retina", "cell",
                   "microaneurysms", "binary_blobs", "shepp_logan_phantom", "stereo_motorcycle")
SYNTHETIC_SIZES = ((256, 256), (640, 480), (1920, 1080), (4000, 3000))


def as_rgb(array: np.ndarray) -> Image.Image:
    """Any sample (grey, RGB or RGBA; bool, float or integer) as uint8 RGB: bool as black/white, float scaled
    from its own range, transparency over white as a viewer shows it."""
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype != np.uint8:
        low, high = float(array.min()), float(array.max())
        array = ((array - low) / max(high - low, 1e-12) * 255).round().astype(np.uint8)
    if array.ndim == 2:
        return Image.fromarray(array, "L").convert("RGB")
    if array.shape[2] == 4:
        white = Image.new("RGBA", (array.shape[1], array.shape[0]), (255, 255, 255, 255))
        return Image.alpha_composite(white, Image.fromarray(array, "RGBA")).convert("RGB")
    return Image.fromarray(array[:, :, :3], "RGB")


def skimage_samples() -> tuple[dict[str, Image.Image], dict[str, str]]:
    """The SKIMAGE_SAMPLES that load here ({name: image}) and those that do not ({name: why}), e.g. because
    this scikit-image keeps them on the web only."""
    import skimage.data

    loaded, skipped = {}, {}
    for name in SKIMAGE_SAMPLES:
        loader = getattr(skimage.data, name, None)
        if loader is None:
            skipped[name] = "not in this scikit-image"
            continue
        try:
            sample = loader()
        except Exception as err:  # noqa: BLE001 - a missing download surfaces as ModuleNotFoundError, OSError, ...
            skipped[name] = f"needs a download ({type(err).__name__})"
            continue
        loaded[name] = as_rgb(sample[0] if isinstance(sample, tuple) else sample)  # stereo pairs: the left view
    return loaded, skipped


def _linear_gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Two random colours blended along a random direction."""
    angle = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs * np.cos(angle) + ys * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1.0)
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return (a + (b - a) * t[..., None]).astype(np.uint8)


def _radial_gradient(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A bright or dark blob fading out from a random centre: the kind of round shape a face detector looks for."""
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = np.clip(np.hypot(xs - cx, ys - cy) / (0.5 * max(width, height)), 0, 1)
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return (a + (b - a) * t[..., None]).astype(np.uint8)


def _uniform_noise(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _gaussian_noise(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    noise = rng.standard_normal((height, width, 3), dtype=np.float32) * 40 + 128
    return np.clip(noise, 0, 255).astype(np.uint8)


def _stripes(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Sine stripes of a random period (4 to 64 px) and direction."""
    angle, period = rng.uniform(0, np.pi), rng.uniform(4, 64)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    wave = (np.sin((xs * np.cos(angle) + ys * np.sin(angle)) * (2 * np.pi / period)) + 1) * 127.5
    return np.repeat(wave[..., None], 3, axis=2).astype(np.uint8)


def _checkerboard(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Squares of a random side (4 px to an eighth of the shorter side) in two random colours."""
    side = int(rng.integers(4, max(5, min(width, height) // 8)))
    ys, xs = np.mgrid[0:height, 0:width]
    odd = ((xs // side + ys // side) % 2).astype(bool)
    a, b = rng.integers(0, 256, 3).astype(np.uint8), rng.integers(0, 256, 3).astype(np.uint8)
    return np.where(odd[..., None], a, b)


SYNTHETIC_KINDS = {"linear gradient": _linear_gradient, "radial gradient": _radial_gradient,
                   "uniform noise": _uniform_noise, "gaussian noise": _gaussian_noise, "stripes": _stripes,
                   "checkerboard": _checkerboard}


def synthetic(seed: int):
    """(name, image) for every kind of SYNTHETIC_KINDS at every SYNTHETIC_SIZES, made one at a time (a 12 MP
    one is 36 MB) from `seed`, so a run can be repeated exactly."""
    rng = np.random.default_rng(seed)
    for kind, make in SYNTHETIC_KINDS.items():
        for width, height in SYNTHETIC_SIZES:
            yield f"{kind} {width}x{height}", Image.fromarray(make(rng, width, height), "RGB")
