"""The model file: GlassesNet weights with everything needed to use them (crop size, margin, threshold)."""
from __future__ import annotations

from pathlib import Path

import torch

from glasses.model import GlassesNet

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "glasses.pt"
FORMAT_VERSION = 1


def save_model(model: GlassesNet, path: Path, input_size: int, crop_margin: float, threshold: float,
               widths: tuple[int, ...]) -> None:
    torch.save({"format_version": FORMAT_VERSION, "state_dict": model.state_dict(),
                "config": {"input_size": input_size, "crop_margin": crop_margin, "widths": list(widths)},
                "threshold": threshold}, path)


def load_model(path: Path | str = DEFAULT_WEIGHTS) -> tuple[GlassesNet, dict]:
    """The model ready for inference (eval mode, BatchNorm folded), and its config (`input_size`,
    `crop_margin`, `widths`, `threshold`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: model file format {checkpoint.get('format_version')} is not "
                         f"{FORMAT_VERSION}; it was written by another version of glasses")
    config = dict(checkpoint["config"], threshold=checkpoint["threshold"])
    model = GlassesNet(widths=tuple(config["widths"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval().fold_batchnorm(), config
