"""The model file glasses runs: the classifier exported to ONNX (training/export.py), whose metadata carries
everything needed to use it (crop size, margin, threshold, the mirror band) and the SHA-256 of the PyTorch
weights it was exported from. Reading one needs onnxruntime only; training and its .pt files are
training/model_file.py's.

A .pt file may still be named where a model is asked for (`--weights weights/glasses.pt`): the ONNX export
beside it is used, and only if it was made from exactly those weights.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from glasses.errors import GlassesError
from glasses.labels import DEFAULT_ATTRIBUTE, GLASSES_LABELS, LabelNameError, LabelNames
from glasses.weights_folder import weights_folder

DEFAULT_WEIGHTS = weights_folder() / "glasses.onnx"
CONFIG_KEY = "glasses_config"
WEIGHTS_HASH_KEY = "weights_sha256"
_CONFIG_FIELDS = {"input_size": int, "crop_margin": float, "threshold": float, "mirror_band": float}
_EXPORT_HINT = "python -m training.export --weights {pt} --out {folder}"


class ModelFileError(GlassesError, ValueError):
    """A model file that cannot be used; the message names the file and says why. A ValueError, so that callers
    catching bad arguments (the CLI, app.py) report it as one."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def onnx_file_for(path: Path | str) -> Path:
    """The ONNX file to run for `path`: the file itself, or for a PyTorch .pt the export beside it (whose
    origin `check_exported_from` checks once it is loaded).

    Raises ModelFileError, naming the file and saying what to do, for a missing file or a .pt without an
    export."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "model file not found")
    if path.suffix != ".pt":
        return path
    export = path.with_suffix(".onnx")
    if not export.is_file():
        raise ModelFileError(path, f"a PyTorch model file, and glasses runs ONNX: no {export.name} beside it; "
                                   f"make one with `{_export_hint(path)}`")
    return export


def check_exported_from(weights: Path, export: Path, metadata: dict[str, str]) -> None:
    """Raise ModelFileError unless `export` (whose ONNX metadata is `metadata`) was made from exactly the
    .pt `weights`: a stale export, from other weights, is never run in their name."""
    if metadata.get(WEIGHTS_HASH_KEY) != file_sha256(weights):
        raise ModelFileError(weights, f"{export.name} beside it was exported from other weights; export again "
                                      f"with `{_export_hint(weights)}`")


def _export_hint(pt: Path) -> str:
    return _EXPORT_HINT.format(pt=pt, folder=pt.parent)


def model_config(metadata: dict[str, str], path: Path) -> dict:
    """The config a model file's ONNX metadata records: `input_size`, `crop_margin`, `threshold`, `mirror_band`,
    the architecture's fields, and `label_names` (glasses.labels.LabelNames, from the recorded `attribute` and
    `labels`; a file that records none is a glasses model). Raises ModelFileError for an ONNX file that is not a
    glasses classifier."""
    if CONFIG_KEY not in metadata:
        raise ModelFileError(path, "not a glasses model file (an ONNX model without glasses' config; "
                                   "export one with python -m training.export)")
    try:
        config = json.loads(metadata[CONFIG_KEY])
        for field, kind in _CONFIG_FIELDS.items():
            config[field] = kind(config[field])
    except (ValueError, TypeError, KeyError) as err:
        raise ModelFileError(path, f"not a glasses model file (its config is unreadable: {type(err).__name__})") \
            from None
    if not 0.0 <= config["threshold"] <= 1.0 or config["input_size"] < 8:
        raise ModelFileError(path, "not a glasses model file (its config is out of range)")
    config["label_names"] = label_names(config, path)
    return config


def label_names(config: dict, path: Path) -> LabelNames:
    """The label names a model file's config records (`labels`: [positive, negative], `attribute`), or the
    glasses model's where it records none. Raises ModelFileError for names that cannot be used."""
    if "labels" not in config:
        return GLASSES_LABELS
    labels, attribute = config["labels"], config.get("attribute", DEFAULT_ATTRIBUTE)
    if not (isinstance(labels, list) and len(labels) == 2 and isinstance(attribute, str)):
        raise ModelFileError(path, "not a glasses model file (its labels are not two names)")
    try:
        return LabelNames(labels[0], labels[1], attribute=attribute)
    except LabelNameError as err:
        raise ModelFileError(path, f"not a usable model file ({err})") from None
