"""What runs the classifier: onnxruntime on the CPU. It takes float RGB crops in 0..1, (N, 3, S, S), and returns
the network's logits, (N,), from which glasses.mirror makes P(glasses). The model file is the ONNX export
(glasses/weights.py); PyTorch is needed only to train and export one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from glasses.weights import ModelFileError, check_exported_from, model_config, onnx_file_for

BACKENDS = ("auto", "onnx")
RETIRED_BACKEND_HINT = ("the classifier always runs on onnxruntime, from the ONNX model file; to run weights "
                        "trained with PyTorch, export them: python -m training.export --weights FILE.pt --out DIR")
DEVICE_HINT = "glasses runs on onnxruntime on the CPU; --threads (Predictor(threads=...)) sets how many cores"


def onnx_session(path: Path, threads: int, spin_after_run: bool = False, fixed_dimensions: dict | None = None,
                 what: str = "a glasses model file"):
    """An onnxruntime CPU session, as glasses runs it, on a thread pool of its own.

    `spin_after_run`: onnxruntime's default, where its threads spin on the CPU after each run, waiting for the
    next. Here the next thing is another session (the detector's, the classifier's) or the image decoder on
    the same cores, which that spinning slows (7-8 ms a 256-pixel portrait end to end against 3.0-3.4 with
    threads that stop; bench/speed.py), so by default they stop. onnxruntime's process-wide pool, shared by
    glasses' sessions and spinning, measured 0.1-0.3 ms faster, but once it exists every other session in the
    process that does not opt in fails to load, the caller's own included: a library must not do that.
    `fixed_dimensions`: symbolic axes fixed, so that onnxruntime plans memory once (the detector's 128 x 128).
    A file onnxruntime cannot load raises ModelFileError naming it: "not `what` (...)".
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    if not spin_after_run:
        options.add_session_config_entry("session.force_spinning_stop", "1")
    for name, value in (fixed_dimensions or {}).items():
        options.add_free_dimension_override_by_name(name, value)
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # noqa: BLE001 - onnxruntime's errors (NoSuchFile, InvalidProtobuf...) share no base
        raise ModelFileError(path, f"not {what} (onnxruntime cannot load it: {type(err).__name__})") from None


class OnnxClassifier:
    name = "onnx"

    def __init__(self, path: Path, threads: int, spin_after_run: bool = False):
        self.session = onnx_session(path, threads, spin_after_run)
        self.path = Path(path)
        self.metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.config = model_config(self.metadata, self.path)
        self._input = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input: batch})[0]


def check_device(device: str, backend: str) -> None:
    """Refuse a device or backend glasses does not run on, saying what to do instead."""
    if backend == "torch":
        raise ValueError(f"backend 'torch' is not available: {RETIRED_BACKEND_HINT}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if device != "cpu":
        raise ValueError(f"device {device!r} is not available: {DEVICE_HINT}")


def load_classifier(weights: Path, threads: int, device: str = "cpu", backend: str = "auto") -> OnnxClassifier:
    """The classifier for a model file (an ONNX export, or a .pt with its export beside it), its config in
    `.config`. Raises glasses.weights.ModelFileError, naming the file, for a model that cannot be used, and
    ValueError for a device or backend glasses does not run on."""
    check_device(device, backend)
    export = onnx_file_for(weights)
    classifier = OnnxClassifier(export, threads)
    if export != Path(weights):
        check_exported_from(Path(weights), export, classifier.metadata)
    return classifier
