"""What runs the classifier: onnxruntime on the CPU. It takes float RGB crops in 0..1, (N, 3, S, S), and returns
the network's logits, (N,), from which glasses.mirror makes P(glasses). The model file is the ONNX export
(glasses/weights.py); PyTorch is needed only to train and export one.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from glasses.weights import ModelFileError, model_config, onnx_file_for

BACKENDS = ("auto", "onnx")
RETIRED_BACKEND_HINT = ("the classifier always runs on onnxruntime, from the ONNX model file; to run weights "
                        "trained with PyTorch, export them: python -m training.export --weights FILE.pt --out DIR")
DEVICE_HINT = "glasses runs on onnxruntime on the CPU; set the cores it uses with threads (--threads)"
_log = logging.getLogger(__name__)  # unconfigured, Python prints warnings on stderr


def onnx_session(path: Path, threads: int, spin_after_run: bool = False, fixed_dimensions: dict | None = None,
                 shared_pool: bool = False):
    """An onnxruntime CPU session, as glasses runs it.

    `shared_pool`: glasses' sessions (the detector's two, the classifier) run one after another on the same
    photo, so they share onnxruntime's process-wide thread pool, whose threads spin for a moment after each run
    and so are awake for the next session's: 2.8-3.0 ms a 256-pixel portrait end to end, against 3.2 with a
    pool of their own per session whose threads stop after each run, and 7-8 with pools of their own that spin
    (each pool's spinning takes the cores from the other's work; bench/speed.py). The pool is made once, with
    the `threads` of the first such session (shared_pool_threads). Otherwise, a pool of the session's own,
    whose threads spin after each run only with `spin_after_run` (training/export.py times a session alone so).
    `fixed_dimensions`: symbolic axes fixed, so that onnxruntime plans memory once (the detector's 128 x 128).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    if shared_pool and shared_pool_threads(threads):
        options.use_per_session_threads = False
    else:
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        if not spin_after_run:
            options.add_session_config_entry("session.force_spinning_stop", "1")
    for name, value in (fixed_dimensions or {}).items():
        options.add_free_dimension_override_by_name(name, value)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


_shared_threads: int | None = None


def shared_pool_threads(threads: int) -> int | None:
    """The size of onnxruntime's process-wide thread pool, made with `threads` threads on the first call; None
    where onnxruntime cannot make it (its environment was made before, by other code in this process)."""
    global _shared_threads
    if _shared_threads is None:
        import onnxruntime as ort

        try:
            ort.set_global_thread_pool_sizes(threads, 1)
        except Exception:  # noqa: BLE001 - onnxruntime raises its own RuntimeError subclasses, or none at all
            return None
        _shared_threads = threads
    elif threads != _shared_threads:
        _log.warning("onnxruntime's shared thread pool already has %d threads; %d were asked for",
                     _shared_threads, threads)
    return _shared_threads


class OnnxClassifier:
    name = "onnx"

    def __init__(self, path: Path, threads: int, spin_after_run: bool = False):
        try:
            self.session = onnx_session(path, threads, spin_after_run)
        except Exception as err:  # noqa: BLE001 - onnxruntime's errors share no base class
            raise ModelFileError(path, f"not a glasses model file (onnxruntime cannot load it: "
                                       f"{type(err).__name__})") from None
        self.path = Path(path)
        self.config = model_config(dict(self.session.get_modelmeta().custom_metadata_map), self.path)
        self._input = self.session.get_inputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input: batch})[0]


def check_device(device: str, backend: str) -> None:
    """Refuse what glasses no longer does, saying what to do instead."""
    if backend == "torch":
        raise ValueError(f"backend 'torch' is no longer available: {RETIRED_BACKEND_HINT}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if device != "cpu":
        raise ValueError(f"device {device!r} is not available: {DEVICE_HINT}")


def load_classifier(weights: Path, threads: int, device: str = "cpu", backend: str = "auto") -> OnnxClassifier:
    """The classifier for a model file (an ONNX export, or a .pt with its export beside it), its config in
    `.config`. Raises glasses.weights.ModelFileError, naming the file, for a model that cannot be used, and
    ValueError for a device or backend glasses does not run on."""
    check_device(device, backend)
    return OnnxClassifier(onnx_file_for(weights), threads)
