"""The defaults and limits glasses runs with, in one place, and the environment variables that change them.

The programs read the environment: the CLI's flags take their defaults from it, and the app its limits, so a
Space operator tunes the app without editing code. The library does not: Predictor, FaceDetector and
load_image default to `DEFAULTS`, the built-in values, so that the same call gives the same answer (and
training the same crops) however a server is tuned. The variables:

    GLASSES_MIN_FACE_SIZE        smallest face looked for, in pixels (default 40; at least 12)
    GLASSES_MAX_SIDE             largest canvas face detection searches, in pixels (default 2048; at least 128)
    GLASSES_MAX_PIXELS           largest image the CLI reads, in pixels (default 100000000)
    GLASSES_WEB_MAX_PIXELS       largest image the app reads, in pixels (default 50000000)
    GLASSES_MAX_UPLOAD_MB        largest upload to the app, and largest zip member, in megabytes (default 50)
    GLASSES_MAX_ZIP_IMAGES       images read from one zip, by the app's Batch tab and the CLI (default 1000)
    GLASSES_MAX_ZIP_UNPACKED_GB  what one zip's images may unpack to together, in gigabytes (default 1)
    GLASSES_BATCH_TIME_BUDGET_S  seconds one Batch run in the app may classify for (default 300; at least 1)

(The app has one more: GLASSES_SLOW_CLIENT_TIMEOUT_S, webapp/connections.py's.) Whole numbers may be written
with underscores (50_000_000). A variable set to nothing counts as unset. A value that is not a number of the
right kind, or is out of range, raises ConfigError naming the variable and the value: a limit an operator
mistyped stops the program with words saying so, instead of letting it run quietly with another limit.

`load_config()` reads the environment when called, and takes any other mapping as well
(`load_config({"GLASSES_MAX_SIDE": "4096"})`), so that tests need not change the process's environment.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from glasses.errors import GlassesError

MEGABYTE = 1024 ** 2
GIGABYTE = 1024 ** 3


class ConfigError(GlassesError, ValueError):
    """An environment variable glasses cannot use; the message names it, its value and what it must be. A
    ValueError, so that callers catching bad arguments (the CLI, app.py) report it as one."""

    def __init__(self, variable: str, value: str, reason: str):
        super().__init__(reason, f"environment variable {variable}={value!r}")
        self.variable = variable
        self.value = value


@dataclass(frozen=True)
class Config:
    """The values in effect. Sizes are in bytes here, whatever unit their variable is written in."""

    # Faces smaller than this in a photo are not looked for: a smaller face needs a larger canvas, whose cost
    # grows with its area (glasses/detect.py).
    min_face_size: int = 40
    # The largest canvas the detector searches; beyond it the smallest face found grows with the photo.
    max_side: int = 2048
    # 100 megapixels: above any phone camera's default mode, far below what exhausts memory when decoded.
    max_pixels: int = 100_000_000
    # Half the CLI's: a public server decodes what any visitor sends, and decoding is the part of an image's
    # cost that grows with its pixels (about 0.3-0.6 GB at 50 megapixels, bench/huge_image.py), while 50
    # megapixels still takes the full-size photos of 48- and 50-megapixel phones.
    web_max_pixels: int = 50_000_000
    # 50 MB: several times a phone photo, enough for a zip of a few hundred; small enough to hold in memory.
    max_upload_bytes: int = 50 * MEGABYTE
    # A batch zip may hold this many images, unpacking to at most this many bytes together (photos barely
    # compress, so a 50 MB zip of them unpacks to little more); the rest are reported as one error row, not read.
    max_zip_images: int = 1000
    max_zip_unpacked_bytes: int = GIGABYTE
    # One Batch run classifies for at most this long; the files it did not reach are rows saying so. Batch runs
    # one visitor's batch at a time, so one batch of a thousand large photos would otherwise keep every other
    # visitor's batch waiting for a quarter of an hour.
    batch_time_budget_s: float = 300.0


@dataclass(frozen=True)
class Variable:
    """One environment variable: the Config field it sets, in what unit, and the least value that works."""

    name: str
    field: str
    unit: str           # words for the error message: "pixels", "megabytes"
    minimum: float
    scale: int = 1      # bytes per unit, for sizes written in megabytes or gigabytes
    whole: bool = True  # a whole number; otherwise any finite number

    def parse(self, text: str):
        """The field's value for `text`; ConfigError naming this variable when it is not one."""
        kind = "a whole number" if self.whole else "a number"
        must = f"must be {kind} of {self.unit}, at least {self.minimum:g}"
        try:
            value = int(text) if self.whole else float(text)
        except ValueError:
            raise ConfigError(self.name, text, must) from None
        if not math.isfinite(value) or value < self.minimum:
            raise ConfigError(self.name, text, must)
        return value * self.scale


# The detector's own floors (glasses/detect.py refuses less): 12-pixel faces, and its 128-pixel view.
VARIABLES = (
    Variable("GLASSES_MIN_FACE_SIZE", "min_face_size", "pixels", 12),
    Variable("GLASSES_MAX_SIDE", "max_side", "pixels", 128),
    Variable("GLASSES_MAX_PIXELS", "max_pixels", "pixels", 1),
    Variable("GLASSES_WEB_MAX_PIXELS", "web_max_pixels", "pixels", 1),
    Variable("GLASSES_MAX_UPLOAD_MB", "max_upload_bytes", "megabytes", 1, scale=MEGABYTE),
    Variable("GLASSES_MAX_ZIP_IMAGES", "max_zip_images", "images", 1),
    Variable("GLASSES_MAX_ZIP_UNPACKED_GB", "max_zip_unpacked_bytes", "gigabytes", 1, scale=GIGABYTE),
    Variable("GLASSES_BATCH_TIME_BUDGET_S", "batch_time_budget_s", "seconds", 1, whole=False),
)

DEFAULTS = Config()


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The built-in values with those `environ` (default: this process's environment) sets.

    Raises ConfigError, naming the variable and its value, for a value that is malformed or out of range."""
    environ = os.environ if environ is None else environ
    changes = {}
    for variable in VARIABLES:
        text = environ.get(variable.name, "")
        if text.strip():
            changes[variable.field] = variable.parse(text)
    return replace(DEFAULTS, **changes)
