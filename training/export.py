"""Export the shipped model to TorchScript and ONNX (optionally int8 ONNX), check each against PyTorch, time it.

The exported files run the classifier without this package (C++, onnxruntime on other languages and devices). The
input is what Predictor.classify feeds the model: float RGB in 0..1, (N, 3, S, S); the output is the logit, (N,),
of one pass (the mirror pass near the threshold is the caller's: glasses/mirror.py).
Every export is compared with the PyTorch model on the same inputs before it is trusted, so a silently wrong
export fails here instead of in someone's application.

    python -m training.export --weights weights/glasses.pt --out weights/ \
        [--quantize --calibration .cache/crops/KEY] [--json export.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quant_pre_process, quantize_static
from torch import nn

from glasses.crop import as_batch
from glasses.mirror import sigmoid
from glasses.runtime import onnx_session
from glasses.weights import CONFIG_KEY, WEIGHTS_HASH_KEY, file_sha256
from training.model_file import load_model
from training.crop_store import stored_faces
from training.model_card import add_exports

FLOAT_TOLERANCE = 1e-4  # in probability; float exports compute the same arithmetic, so anything larger is a bug
TORCHSCRIPT, ONNX, INT8 = "glasses.torchscript.pt", "glasses.onnx", "glasses.int8.onnx"

Runner = Callable[[np.ndarray], np.ndarray]


def export_torchscript(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    """Traced (the network has no control flow) and frozen, so weights are constants and the file needs only
    torch.jit.load."""
    with torch.no_grad():
        torch.jit.freeze(torch.jit.trace(model, example)).save(str(path))


def export_onnx(model: nn.Module, example: torch.Tensor, path: Path, weights_sha256: str, config: dict) -> None:
    """With the torch.export-based exporter (the default since torch 2.9; the TorchScript-based one is
    deprecated), a symbolic batch axis, and the weights inside the file so it is a single artefact. The metadata
    carries the model's config (crop size, margin, threshold, mirror band: all glasses needs to run it, see
    glasses/weights.py) and the hash of the weights file, so that a .pt is run only through its own export."""
    torch.onnx.export(model, (example,), path, dynamo=True, input_names=["image"], output_names=["logit"],
                      dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False, verbose=False)
    set_metadata(path, weights_sha256, config)


def export_beside(weights: Path) -> Path:
    """The ONNX file glasses runs, exported beside the .pt (same name, .onnx) with the config it needs. `main`,
    which also checks and times every export format, is the fuller step for a model to ship."""
    model, config = load_model(weights)
    path = weights.with_suffix(".onnx")
    size = config["input_size"]
    export_onnx(model, torch.rand(2, 3, size, size), path, file_sha256(weights), config)
    return path


def set_metadata(path: Path, weights_sha256: str, config: dict) -> None:
    exported = onnx.load(str(path))
    onnx.helper.set_model_props(exported, {WEIGHTS_HASH_KEY: weights_sha256, CONFIG_KEY: json.dumps(config)})
    onnx.save(exported, str(path))


class _Crops(CalibrationDataReader):
    def __init__(self, images: np.ndarray):
        self._batches = iter(images[i:i + 1] for i in range(len(images)))

    def get_next(self) -> dict | None:
        batch = next(self._batches, None)
        return None if batch is None else {"image": batch}


def export_int8(onnx_path: Path, path: Path, calibration: np.ndarray) -> None:
    """Static int8, activation ranges from real face crops, in onnxruntime's recommended QDQ form, per tensor (on
    the earlier GlassesNet, per-channel scales changed probabilities by up to 0.42 and QOperator ran about five
    times slower). On this AVX2 CPU, without int8 dot-product instructions, the shipped LiteNet's int8 file
    takes about twice float ONNX's time (weights/model_card.md), so glasses runs the float one; the int8 file is
    there for CPUs where int8 is faster (untested here)."""
    prepared = path.with_suffix(".prep.onnx")
    quant_pre_process(str(onnx_path), str(prepared), skip_optimization=True)  # shape inference, as ort asks
    try:
        quantize_static(prepared, path, _Crops(calibration), quant_format=QuantFormat.QDQ, per_channel=False)
    finally:
        prepared.unlink()


def load_crops(path: Path, size: int, count: int, seed: int = 0) -> np.ndarray:
    """Up to `count` face crops, drawn at random, as float NCHW in 0..1. `path`: an .npy of (N, S, S, 3) uint8
    crops, a folder of the training crop cache (`.cache/crops/KEY`, the crops of one size: training/crop_store.py)
    or an .npz with `images` and `status`; only crops with a face are used. Raises ValueError naming `path`."""
    if path.is_dir():
        images = stored_faces(path, count, seed)
        if not len(images):
            raise ValueError(f"{path}: no face crops there (a crop cache folder holds */*.npz)")
    elif path.suffix == ".npz":
        with np.load(path) as data:
            images = data["images"][data["status"] == "ok"] if "status" in data else data["images"]
    else:
        images = np.load(path)
    if images.ndim != 4 or images.shape[1:] != (size, size, 3):
        raise ValueError(f"{path}: crops of shape {images.shape[1:]}, the model takes ({size}, {size}, 3)")
    pick = np.sort(np.random.default_rng(seed).permutation(len(images))[:count])
    return as_batch(images[pick])


def load_runner(path: Path, threads: int) -> Runner:
    """Logits from an exported file, by its kind: TorchScript (.pt) or ONNX (.onnx, on onnxruntime's CPU, set up
    as glasses runs it)."""
    if path.suffix == ".onnx":
        session = onnx_session(path, threads)
        return lambda x: session.run(["logit"], {"image": x})[0]
    module = torch.jit.load(str(path))
    return lambda x: module(torch.from_numpy(x)).numpy()


def torch_runner(model: nn.Module) -> Runner:
    return lambda x: model(torch.from_numpy(x)).numpy()


def probabilities(run: Runner, inputs: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return sigmoid(run(inputs))


def check_exports(model: nn.Module, paths: dict[str, Path], inputs: np.ndarray,
                  threads: int = 2) -> dict[str, float]:
    """The largest difference in P(glasses) between each exported file and the PyTorch model on `inputs`."""
    expected = probabilities(torch_runner(model), inputs)
    return {name: float(np.abs(probabilities(load_runner(path, threads), inputs) - expected).max())
            for name, path in paths.items()}


def ms_per_face(run: Runner, image: np.ndarray, runs: int) -> float:
    """Median wall time of one batch-1 call, after warm-up: what a caller classifying one face waits."""
    times = []
    with torch.inference_mode():
        for _ in range(runs + max(10, runs // 10)):
            start = time.perf_counter()
            run(image)
            times.append(time.perf_counter() - start)
    return float(np.median(times[-runs:]) * 1e3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, required=True, help="model file (glasses.pt)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the exported files")
    parser.add_argument("--quantize", action="store_true", help=f"also write {INT8} (needs --calibration)")
    parser.add_argument("--calibration", type=Path,
                        help="real face crops: .npy (N, S, S, 3) uint8, or a folder of the training crop cache "
                             "(.cache/crops/KEY: the one whose settings.json has the model's crop size)")
    parser.add_argument("--count", type=int, default=512,
                        help="crops drawn from --calibration: half calibrate int8, half check (default 512)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the timings (default 2)")
    parser.add_argument("--runs", type=int, default=200, help="timed batch-1 calls per variant (default 200)")
    parser.add_argument("--json", type=Path, help="also write the results here, for the model card")
    args = parser.parse_args(argv)
    if args.quantize and args.calibration is None:
        parser.error("--quantize needs --calibration: int8 ranges taken from random noise do not fit faces")

    torch.set_num_threads(args.threads)
    model, config = load_model(args.weights)
    size, threshold = config["input_size"], config["threshold"]
    try:
        crops = (load_crops(args.calibration, size, args.count) if args.calibration
                 else np.zeros((0, 3, size, size), np.float32))
    except (OSError, ValueError, KeyError) as err:   # load_crops names the file; KeyError: an .npz without images
        parser.error(f"--calibration: {err}")
    calibration, real = np.ascontiguousarray(crops[0::2]), np.ascontiguousarray(crops[1::2])
    inputs = np.concatenate([np.random.default_rng(0).random((64, 3, size, size), dtype=np.float32), real])

    args.out.mkdir(parents=True, exist_ok=True)
    paths = {"torchscript": args.out / TORCHSCRIPT, "onnx": args.out / ONNX}
    example = torch.from_numpy(inputs[:2])  # batch 2: a batch of 1 would be specialised as a constant
    export_torchscript(model, example, paths["torchscript"])
    export_onnx(model, example, paths["onnx"], file_sha256(args.weights), config)
    diffs = check_exports(model, paths, inputs, args.threads)
    bad = {name: diff for name, diff in diffs.items() if not diff <= FLOAT_TOLERANCE}  # `not <=` catches NaN
    for name, diff in bad.items():
        paths[name].unlink()
        print(f"error: the {name} export differs from PyTorch by {diff:.3g} in probability (tolerance "
              f"{FLOAT_TOLERANCE:g}); {paths[name]} removed", file=sys.stderr)
    if bad:
        return 1

    if args.quantize:
        paths["onnx-int8"] = args.out / INT8
        export_int8(paths["onnx"], paths["onnx-int8"], calibration)
        set_metadata(paths["onnx-int8"], file_sha256(args.weights), config)
        diffs |= check_exports(model, {"onnx-int8": paths["onnx-int8"]}, inputs, args.threads)
        int8 = probabilities(load_runner(paths["onnx-int8"], args.threads), real) >= threshold
        agreement = float(np.mean(int8 == (probabilities(torch_runner(model), real) >= threshold)))

    rows = [{"variant": "pytorch", "file": args.weights, "run": torch_runner(model), "max_prob_diff": 0.0}]
    rows += [{"variant": name, "file": path, "run": load_runner(path, args.threads), "max_prob_diff": diffs[name]}
             for name, path in paths.items()]
    for row in rows:  # PyTorch first: onnxruntime's threads spin for a while after each call
        row.update(file=row["file"].name, size_bytes=row["file"].stat().st_size,
                   ms_per_face=ms_per_face(row.pop("run"), inputs[:1], args.runs))
    if args.quantize:
        rows[-1]["label_agreement"] = agreement
    result = {"input_size": size, "threshold": threshold, "threads": args.threads, "timed_runs": args.runs,
              "checked_on": {"random": 64, "real_crops": len(real)}, "variants": rows}

    print(f"{'variant':<12} {'bytes':>9} {'ms/face':>8} {'max prob diff':>14}  labels agreeing at {threshold}")
    for row in rows:
        agree = f"{row['label_agreement']:.2%} of {len(real)} real crops" if "label_agreement" in row else ""
        print(f"{row['variant']:<12} {row['size_bytes']:>9} {row['ms_per_face']:>8.3f} "
              f"{row['max_prob_diff']:>14.2e}  {agree}")
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if (args.out / "model_card.json").exists():
        command = "python -m training.export " + " ".join(argv if argv is not None else sys.argv[1:])
        add_exports(args.out, result, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
