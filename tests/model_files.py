"""Model files for tests: a network saved as training saves it (.pt) and exported as glasses runs it (.onnx)."""
from __future__ import annotations

from pathlib import Path

import torch

from training.export import export_beside
from training.model_file import save_model


def write_model(pt_path: Path, model: torch.nn.Module, input_size: int = 96, crop_margin: float = 0.25,
                threshold: float = 0.5, **save_options) -> Path:
    """Save `model` to `pt_path` and export it beside it; the ONNX file's path, which glasses.Predictor takes."""
    save_model(model, pt_path, input_size, crop_margin, threshold, **save_options)
    return export_beside(pt_path)
