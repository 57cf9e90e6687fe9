"""Where the shipped model files are: the classifier, the face detector and their cards.

Training writes them to the checkout's weights/ folder, which is where a checkout runs them from. An installed
glasses carries the files inference needs as its subpackage `glasses.models`: the build maps that package onto
weights/ (pyproject.toml, [tool.setuptools]), so the wheel holds them without their being copied in git.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path

PACKAGED_MODELS = "glasses.models"
CHECKOUT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"


def weights_folder() -> Path:
    """The installed package's model folder where there is one (a wheel, or an editable install), else the
    checkout's weights/."""
    try:
        return Path(str(importlib.resources.files(PACKAGED_MODELS)))
    except ModuleNotFoundError:   # a checkout run in place: glasses/ has no models subpackage
        return CHECKOUT_WEIGHTS
