"""What runs the classifier: onnxruntime when the ONNX export of these exact weights sits beside them (about
eight times less time per face on a CPU than PyTorch, whose per-layer overhead dominates so small a network),
else PyTorch. Both take float RGB crops in 0..1, (N, 3, S, S), and return the network's logits, (N,), from
which glasses.mirror makes P(glasses).

The export (training/export.py) records the SHA-256 of the weights file it came from; a stale export, from
other weights, is never used.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import torch

from glasses.weights import ModelFileError, load_model

BACKENDS = ("auto", "onnx", "torch")
WEIGHTS_HASH_KEY = "weights_sha256"
_log = logging.getLogger(__name__)  # unconfigured, Python prints warnings on stderr


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class TorchClassifier:
    name = "torch"

    def __init__(self, model: torch.nn.Module, device: str):
        self.device = torch.device(device)
        self.model = model.to(self.device)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(torch.from_numpy(batch).to(self.device)).cpu().numpy()


def onnx_session(path: Path, threads: int, spin_after_run: bool = False):
    """An onnxruntime CPU session for an exported classifier, as glasses runs it (training/export.py times it so).

    `spin_after_run`: onnxruntime's default, where its threads spin on the CPU after each run, waiting for the
    next. Here the next thing is MTCNN on the same cores, which that spinning slows about twofold
    (bench/speed.py compares), so by default they stop.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    if not spin_after_run:
        options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxClassifier:
    name = "onnx"

    def __init__(self, path: Path, threads: int, spin_after_run: bool = False):
        self.session = onnx_session(path, threads, spin_after_run)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"image": batch})[0]


def onnx_export_of(weights: Path) -> tuple[Path | None, str]:
    """The ONNX file made from exactly these weights, or None and why not."""
    path = Path(weights).with_suffix(".onnx")
    if not path.is_file():
        return None, f"no ONNX export beside the weights ({path.name})"
    try:
        import onnxruntime as ort
    except ImportError:
        return None, "onnxruntime is not installed"
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime's errors (InvalidProtobuf, Fail, ...) share no base class
        return None, f"{path.name} is not a usable ONNX export ({type(err).__name__})"
    if session.get_modelmeta().custom_metadata_map.get(WEIGHTS_HASH_KEY) != file_sha256(weights):
        return None, f"{path.name} was exported from other weights than {Path(weights).name}"
    return path, ""


def load_classifier(weights: Path, device: str = "cpu", backend: str = "auto"):
    """The classifier (a callable, with `.name` "onnx" or "torch") and the model's config.

    backend "auto": onnxruntime on CPU where a matching export exists, else PyTorch (with a warning when an export
    is there but cannot be used); "onnx" insists (and says why it cannot); "torch" always uses PyTorch. Raises
    glasses.weights.ModelFileError, naming the file, for a model that cannot be loaded.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    model, config = load_model(weights)
    if backend == "torch" or (backend == "auto" and device != "cpu"):
        return TorchClassifier(model, device), config
    path, why_not = onnx_export_of(weights)
    if path is None:
        if backend == "onnx":
            raise ModelFileError(weights, f"cannot use the onnx backend: {why_not}")
        if Path(weights).with_suffix(".onnx").exists():
            _log.warning("%s: %s; the classifier runs on PyTorch instead", weights, why_not)
        return TorchClassifier(model, device), config
    if device != "cpu":
        raise ValueError("the onnx backend runs on the CPU; use --backend torch for other devices")
    return OnnxClassifier(path, torch.get_num_threads()), config
