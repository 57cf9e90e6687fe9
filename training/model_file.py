"""The PyTorch model file that training writes (weights/glasses.pt): the classifier's weights with everything
needed to use them (architecture, crop size, margin, threshold). glasses runs its ONNX export instead
(training/export.py, glasses/weights.py); this file is what training, fine-tuning and exporting start from."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from glasses.labels import GLASSES_LABELS, LabelNames
from glasses.mirror import EVERY_FACE, NO_FACE
from glasses.weights import ModelFileError
from training.glasses_net import GlassesNet
from training.lite_net import LiteNet

TORCH_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "glasses.pt"
FORMAT_VERSION = 1


def save_model(model: GlassesNet | LiteNet, path: Path, input_size: int, crop_margin: float,
               threshold: float, mirror_average: bool = False, mirror_band: float | None = None,
               labels: LabelNames = GLASSES_LABELS) -> None:
    """`mirror_average`: the threshold was chosen on logits averaged with the mirror image's, so inference
    averages them too, for faces within `mirror_band` of the threshold's logit (None: every face; glasses.mirror).
    `labels`: the attribute the model tells and its names for the two answers (glasses.labels), which the
    export carries and every surface shows."""
    band = (EVERY_FACE if mirror_band is None else mirror_band) if mirror_average else NO_FACE
    torch.save({"format_version": FORMAT_VERSION, "state_dict": model.state_dict(),
                "config": {"input_size": input_size, "crop_margin": crop_margin, "mirror_average": mirror_average,
                           "mirror_band": band, "attribute": labels.attribute, "labels": list(labels.pair),
                           **model.config()},
                "threshold": threshold}, path)


def build_model(config: dict) -> nn.Module:
    """The untrained network a model file's config describes (files without `architecture` are GlassesNet)."""
    architecture = config.get("architecture", "GlassesNet")
    if architecture == "GlassesNet":
        return GlassesNet(widths=tuple(config["widths"]))
    if architecture == "LiteNet":
        return LiteNet(depth=config["depth"])
    raise ValueError(f"unknown architecture {architecture!r}; this version knows GlassesNet and LiteNet")


def load_model(path: Path | str = TORCH_WEIGHTS) -> tuple[nn.Module, dict]:
    """The network ready for inference (eval mode, BatchNorm folded), and its config (`input_size`, `crop_margin`,
    `threshold`, `mirror_band`, what glasses.mirror needs, and the architecture's).

    Raises ModelFileError for a file that is missing or not a model this version can use."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "model file not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as err:
        raise ModelFileError(path, f"cannot be read: {err.strerror or err}") from None
    except Exception as err:  # noqa: BLE001 - unpickling a file someone named fails in any way at all
        raise ModelFileError(path, f"not a glasses model file (torch cannot read it: {type(err).__name__})") from None
    if not isinstance(checkpoint, dict) or "format_version" not in checkpoint:
        raise ModelFileError(path, f"not a glasses model file (it holds a {type(checkpoint).__name__})")
    if checkpoint["format_version"] != FORMAT_VERSION:
        raise ModelFileError(path, f"model file format {checkpoint['format_version']} is not "
                                   f"{FORMAT_VERSION}; it was written by another version of glasses")
    try:
        config = dict(checkpoint["config"], threshold=checkpoint["threshold"])
        config.setdefault("mirror_band", EVERY_FACE if config.get("mirror_average") else NO_FACE)  # older files
        model = build_model(config)
        model.load_state_dict(checkpoint["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        first_line = str(err).partition("\n")[0]
        raise ModelFileError(path, f"not a glasses model file ({type(err).__name__}: {first_line})") from None
    return model.eval().fold_batchnorm(), config


class TorchClassifier:
    """A network run as glasses.runtime.OnnxClassifier runs its export: float crops (N, 3, S, S) in, logits out."""

    name = "torch"

    def __init__(self, model: nn.Module, device: str = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch).to(self.device)).cpu().numpy()
