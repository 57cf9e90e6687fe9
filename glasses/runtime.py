"""What runs the classifier: onnxruntime, on the CPU or (`device="cuda"`, with the onnxruntime-gpu package) an
NVIDIA GPU. It takes float RGB crops in 0..1, (N, 3, S, S), and returns the network's logits, (N,), from which
glasses.mirror makes P(glasses). The model file is the ONNX export (glasses/weights.py); PyTorch is needed only
to train and export one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from glasses.weights import ModelFileError, check_exported_from, model_config, onnx_file_for

BACKENDS = ("auto", "onnx")
DEVICES = ("cpu", "cuda")
# onnxruntime's name for each device's execution provider.
PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
RETIRED_BACKEND_HINT = ("the classifier always runs on onnxruntime, from the ONNX model file; to run weights "
                        "trained with PyTorch, export them: python -m training.export --weights FILE.pt --out DIR")
DEVICE_HINT = ("glasses runs on onnxruntime on the CPU (cpu) or, with the onnxruntime-gpu package, an NVIDIA GPU "
               "(cuda)")
CUDA_HINT = ("onnxruntime here has no CUDAExecutionProvider (it has: {available}); for --device cuda install the "
             "GPU build in its place: pip uninstall -y onnxruntime && pip install onnxruntime-gpu, on a machine "
             "with an NVIDIA GPU and its CUDA libraries")


class DeviceError(ValueError):
    """A device this onnxruntime cannot run on; the message says what to install. Never a silent fall back to
    the CPU: a run sized for a GPU would take far longer, and its caller should know before it starts."""


def onnx_session(path: Path, threads: int, spin_after_run: bool = False, fixed_dimensions: dict | None = None,
                 what: str = "a glasses model file", device: str = "cpu"):
    """An onnxruntime session, as glasses runs it, on a thread pool of its own (on the CPU; `device="cuda"`: on
    the GPU, with the CPU for what CUDA's provider does not run; DeviceError where onnxruntime has no CUDA).

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

    providers = execution_providers(device)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    if not spin_after_run:
        options.add_session_config_entry("session.force_spinning_stop", "1")
    for name, value in (fixed_dimensions or {}).items():
        options.add_free_dimension_override_by_name(name, value)
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as err:  # noqa: BLE001 - onnxruntime's errors (NoSuchFile, InvalidProtobuf...) share no base
        raise ModelFileError(path, f"not {what} (onnxruntime cannot load it: {type(err).__name__})") from None
    if session.get_providers()[0] != providers[0]:   # onnxruntime falls back to the CPU where CUDA fails to load
        raise DeviceError(f"onnxruntime could not start {providers[0]} (its CUDA or cuDNN libraries are missing "
                          f"or do not match); it would run on the CPU: {', '.join(session.get_providers())}")
    return session


def execution_providers(device: str) -> list[str]:
    """The providers a session on `device` asks for, best first; DeviceError where this onnxruntime lacks it."""
    import onnxruntime as ort

    if device not in DEVICES:
        raise DeviceError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    available = ort.get_available_providers()
    if PROVIDERS[device] not in available:
        raise DeviceError(CUDA_HINT.format(available=", ".join(available)))
    return [PROVIDERS[device]] + (["CPUExecutionProvider"] if device != "cpu" else [])


class OnnxClassifier:
    name = "onnx"

    def __init__(self, path: Path, threads: int, spin_after_run: bool = False, device: str = "cpu"):
        self.session = onnx_session(path, threads, spin_after_run, device=device)
        self.device = device
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
    if device not in DEVICES:
        raise ValueError(f"device {device!r} is not available: {DEVICE_HINT}")


def load_classifier(weights: Path, threads: int, device: str = "cpu", backend: str = "auto") -> OnnxClassifier:
    """The classifier for a model file (an ONNX export, or a .pt with its export beside it), its config in
    `.config`. Raises glasses.weights.ModelFileError, naming the file, for a model that cannot be used, and
    ValueError for a device or backend glasses does not run on (DeviceError: cuda where onnxruntime has no CUDA).

    On cuda only the classifier runs on the GPU: the face detector's runs are one photo's small canvases each,
    which the CPU runs in about the time a copy to the GPU and back takes, while the classifier's crops are
    batched across photos (glasses/batched.py), where a GPU gains."""
    check_device(device, backend)
    export = onnx_file_for(weights)
    classifier = OnnxClassifier(export, threads, device=device)
    if export != Path(weights):
        check_exported_from(Path(weights), export, classifier.metadata)
    return classifier
