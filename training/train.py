"""Train the shipped classifier on face crops of the manifest, pick its threshold on validation, and write
weights/glasses.pt with its model card and plots (or, for another attribute, e.g. hat.pt: docs/training.md).

    python -m training.train --data ../shared/data --epochs 20 [--teacher runs/teacher/teacher.pt]
    python -m training.train --attribute Wearing_Hat --epochs 8 --out runs/hat      # writes runs/hat/hat.pt
    python -m training.train --data ../shared/data --architecture LiteNet --epochs 4 --lr 1e-3 --teacher ...
    torchrun --nproc-per-node 2 -m training.train ...      # several GPUs or machines (DDP)

Steps, in order: manifest (built by the importers, or given: e.g. the relabel workflow's corrected one) ->
cached face crops (the inference detector and crop) -> soft targets from the teacher, if one is given ->
training (training/loop.py) -> the epoch with the best validation ROC-AUC -> Platt scaling fitted on
validation and folded into the last layer (training/calibration.py) -> the threshold that maximises
validation F1 on those calibrated probabilities, and the band around it where the mirror pass runs
(glasses/mirror.py) -> metrics per source on the test split, which chooses nothing -> weights/ and its card.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from glasses.crop import DEFAULT_MARGIN, as_batch
from glasses.errors import GlassesError
from training.lite_net import LiteNet
from glasses.mirror import NO_FACE, glasses_probs, mirror_band, mirrored, near_threshold, sigmoid
from training.glasses_net import GlassesNet
from training.export import export_beside
from training.model_file import TorchClassifier, save_model
from training import crops as crop_cache
from glasses.labels import GLASSES_LABELS
from training.data import (TrainingSetupError, add_data_arguments, Prepared, attribute_of_rows, augmentations,
                           given_manifest, label_names, prepare)
from glasses.manifest import Manifest, ManifestError, load_manifest
from training.loop import fit, predict, rank
from training.calibration import CalibrationError, expected_calibration_error, fit_platt, fold_into_head
from training.metrics import best_f1_threshold, summarize
from training.model_card import write_model_card
from training.plots import write_plots
from training.provenance import provenance
from training.robustness import robustness_table

WIDTHS = (24, 48, 96, 160, 256)


def add_student_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose the network: the same for the shipped model and the out-of-fold ones."""
    parser.add_argument("--architecture", choices=("GlassesNet", "LiteNet"), default="GlassesNet",
                        help="GlassesNet: trained from scratch; LiteNet: EfficientNet-Lite0's first blocks, started "
                             "from ImageNet's weights (or, in training.train, the teacher's: --teacher)")
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS),
                        help="GlassesNet's channels per stage: wider learns more, costs time per face")
    parser.add_argument("--depth", type=int, default=11, help="LiteNet's number of Lite0 blocks")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128, help="per process")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    add_student_arguments(parser)
    parser.add_argument("--mirror-average", action=argparse.BooleanOptionalAction, default=True,
                        help="choose the threshold on each crop's logit averaged with its mirror image's, and "
                             "test and ship with that averaging for crops near the threshold (glasses/mirror.py)")
    parser.add_argument("--calibrate", action=argparse.BooleanOptionalAction, default=True,
                        help="fit Platt scaling on validation and fold it into the model, so that P(glasses) is "
                             "calibrated and the threshold is chosen on calibrated probabilities "
                             "(training/calibration.py)")
    parser.add_argument("--robustness", action=argparse.BooleanOptionalAction, default=True,
                        help="score the test split under each corruption of training/robustness.py for the card")
    parser.add_argument("--decisions", type=Path,
                        help="the reviewers' decisions that made --manifest from the raw labels (python -m relabel "
                             "decisions): their counts per source go into the model card")
    parser.add_argument("--teacher", type=Path, help="teacher weights (training/teacher.py) to distil from")
    parser.add_argument("--init", type=Path, metavar="MODEL",
                        help="start from this model file's weights (glasses.pt of the same architecture): "
                             "fine-tuning, e.g. on crops from another detector, instead of starting afresh")
    parser.add_argument("--teacher-size", type=int,
                        help="crop side the teacher scores for its soft targets (default: --size); give the side it "
                             "was trained at when the student's differs")
    parser.add_argument("--distill-weight", type=float, default=0.5,
                        help="share of the loss that follows the teacher rather than the label (with --teacher)")
    parser.add_argument("--min-source-share", type=float, default=0.05,
                        help="repeat the training rows of smaller sources until each is at least this share")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/latest"), help="checkpoints and logs")
    parser.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    parser.add_argument("--out", type=Path,
                        help="where the model (POSITIVE.pt and .onnx: glasses.pt, hat.pt) and its card go "
                             "(default: weights/ for glasses; runs/POSITIVE/ for another attribute, so that the "
                             "shipped model's card and plots stay)")
    return parser.parse_args(argv)


def start_distributed(device: str) -> str:
    """Under torchrun (WORLD_SIZE set) join the process group; returns this process's device."""
    if "WORLD_SIZE" not in os.environ:
        return device
    if device.startswith("cuda"):
        dist.init_process_group("nccl")
        device = f"cuda:{os.environ.get('LOCAL_RANK', 0)}"
        torch.cuda.set_device(device)
        return device
    dist.init_process_group("gloo")
    return device


def prepare_once(args: argparse.Namespace, size: int, given: Manifest | None = None) -> Prepared:
    """Under DDP process 0 detects and caches the crops; the others then read the cache. `given`: --manifest,
    already read."""
    def load() -> Prepared:
        return prepare(args.data, given or args.manifest, args.sources, args.limit, size, args.workers,
                       args.cache_dir, args.attribute)
    if not dist.is_initialized():
        return load()
    data = load() if rank() == 0 else None
    dist.barrier()
    return data or load()


def corrupted_test(onnx_path: Path, data: Prepared, args: argparse.Namespace) -> dict:
    """The test split through glasses.Predictor with the exported model, clean and under each corruption of
    training/robustness.py."""
    from glasses import Predictor
    predictor = Predictor(onnx_path, threads=min(2, os.cpu_count() or 1))
    return robustness_table(predictor, [row for row in data.rows if row["split"] == "test"], args.data, args.seed)


def label_origin(args: argparse.Namespace) -> tuple[list[dict] | None, Manifest | None]:
    """With --decisions: the raw rows the importers read (the labels before the review) and --manifest, both
    checked before anything is trained, so that a bad file is named at once, not after hours; without: (None,
    None). Raises TrainingSetupError naming the file and why."""
    if not args.decisions:
        return None, None
    from training.provenance import ProvenanceError, read_decisions
    from training.data import attribute_of_rows
    from training.sources import build_manifest
    if not args.manifest:
        raise TrainingSetupError("--decisions needs --manifest: the corrected manifest those decisions made")
    try:
        read_decisions(args.decisions)
        listed = load_manifest(args.manifest, args.data)
        raw = build_manifest(args.data, attribute=attribute_of_rows(args.attribute, listed), say=lambda _: None)
        return raw, listed
    except (ProvenanceError, ManifestError, OSError) as err:
        raise TrainingSetupError(f"--decisions: {err}") from err


def teacher_targets(path: Path, data: Prepared, mask: np.ndarray, device: str, run_dir: Path) -> np.ndarray:
    """The teacher's P(glasses) for every row (rows outside `mask` get their label): soft targets, from `data`'s
    crops (the same rows as the student's, at the teacher's crop size: a teacher trained on 96 px crops judged
    107 of 11,899 training faces the other way on 80 px ones). Kept in the run folder, keyed by the teacher
    file, the rows and the crop size, because the big teacher is slow on a CPU."""
    from training.teacher import load_teacher  # the teacher's libraries are needed only when distilling
    rows = json.dumps({"size": data.size, "paths": [r["path"] for r in data.rows]})
    key = hashlib.sha1(path.read_bytes() + rows.encode()).hexdigest()[:16]
    cached = run_dir / f"teacher_targets_{key}.npy"
    if cached.exists():
        return np.load(cached)
    soft = data.labels.astype(np.float32)
    soft[mask] = predict(load_teacher(path).to(device), data.dataset(mask), device=device)
    np.save(cached, soft)
    return soft


def teacher_command(path: Path | None) -> list[str]:
    """How the teacher was trained, as its run recorded it, so the card reproduces the whole chain."""
    report = path and path.parent / "teacher_test.json"
    return [json.loads(report.read_text())["command"]] if report and report.exists() else []


def build_student(args: argparse.Namespace, teacher: Path | None = None) -> nn.Module:
    """GlassesNet from scratch, or LiteNet from the first blocks of `teacher` or of ImageNet's Lite0."""
    if args.architecture == "GlassesNet":
        return GlassesNet(widths=tuple(args.widths))
    from training.teacher import Teacher, init_from_lite0, load_teacher  # the Lite0 libraries, only for LiteNet
    model = LiteNet(depth=args.depth)
    lite0 = load_teacher(teacher) if teacher else Teacher(pretrained=True)
    init_from_lite0(model, lite0.net)
    return model


def in_chunks(fn, crops: np.ndarray, size: int = 256) -> np.ndarray:
    """`fn` over uint8 crops (N, S, S, 3), fed as the classifier's float batches a chunk at a time."""
    return np.concatenate([fn(as_batch(crops[i:i + size])) for i in range(0, len(crops), size)] or [np.zeros(0)])


def validation_logits(classifier, data: Prepared, mirror_average: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The validation faces' logits, and their mirror images' (with `mirror_average`; else None)."""
    crops = data.crops.images[data.mask("val")]
    single = in_chunks(classifier, crops)
    return single, in_chunks(lambda batch: classifier(mirrored(batch)), crops) if mirror_average else None


def calibrate(model: nn.Module, data: Prepared, mirror_average: bool) -> dict:
    """Fit Platt scaling on the validation faces (their logits averaged with the mirror image's, as served near
    the threshold) and fold it into `model`'s last layer (training/calibration.py). Returns the fit and the
    validation ECE before and after."""
    labels = data.labels[data.mask("val")]
    single, mirror = validation_logits(TorchClassifier(model.eval(), "cpu"), data, mirror_average)
    logits = single if mirror is None else (single + mirror) / 2
    scale, bias = fit_platt(logits, labels)
    fold_into_head(model, scale, bias)
    return {"method": "Platt scaling of the logit on the validation split, folded into the last layer",
            "scale": scale, "bias": bias,
            "val_ece_before": expected_calibration_error(labels, sigmoid(logits)),
            "val_ece_after": expected_calibration_error(labels, sigmoid(scale * logits + bias))}


def choose_threshold(classifier, data: Prepared, mirror_average: bool) -> tuple[float, float]:
    """The threshold that maximises validation F1 (on logits averaged with the mirror image's, with
    `mirror_average`), and the band around it where glasses.mirror runs the mirror pass."""
    labels = data.labels[data.mask("val")]
    single, mirror = validation_logits(classifier, data, mirror_average)
    if mirror is None:
        return round(best_f1_threshold(labels, sigmoid(single)), 4), NO_FACE
    return round(best_f1_threshold(labels, sigmoid((single + mirror) / 2)), 4), mirror_band(single, mirror)


def evaluate(classifier, data: Prepared, threshold: float, band: float) -> tuple[dict, dict]:
    """Test metrics per source at `threshold`, computed as glasses.Predictor computes P(glasses), the share of
    faces that took the mirror pass, and the (labels, probs) per source for the plots. A test photo in which no
    face was found is scored 0, as the CLI and the app answer it (no_face): a miss when it shows glasses."""
    in_test = data.column("split") == "test"
    test = data.mask("test")
    crops = data.crops.images[test]
    probs = np.zeros(int(in_test.sum()), np.float32)
    probs[test[in_test]] = in_chunks(lambda batch: glasses_probs(classifier, batch, threshold, band), crops)
    mirror_share = float(near_threshold(in_chunks(classifier, crops), threshold, band).mean()) if len(crops) else 0.0
    labels, sources = data.labels[in_test], data.column("source")[in_test]
    curves = {"all": (labels, probs)}
    curves.update({src: (labels[sources == src], probs[sources == src]) for src in sorted(set(sources))})
    metrics = {src: dict(summarize(lab, prob, threshold), ece=expected_calibration_error(lab, prob))
               for src, (lab, prob) in curves.items()}
    for src in metrics:
        in_source = in_test & ((data.column("source") == src) if src != "all" else True)
        metrics[src]["not_detected"] = int((in_source & ~data.crops.found).sum())
    metrics["all"]["mirror_pass_share"] = round(mirror_share, 4)
    return metrics, curves


def main(argv=None) -> int:
    """Exits with the reason, instead of a traceback, when an input cannot be used (a GlassesError)."""
    args = parse_args(argv)
    try:
        return run(args, argv)
    except GlassesError as err:
        sys.exit(str(err))


def run(args: argparse.Namespace, argv) -> int:
    """The whole training run of `args`; `argv` is recorded in the model card as the command that made it."""
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = start_distributed(args.device)
    args.run_dir.mkdir(parents=True, exist_ok=True)

    raw_rows, given = label_origin(args)   # the decisions file first, then the manifest they made
    given = given or given_manifest(args)  # read and checked once, for the labels, training and provenance
    labels = label_names(attribute_of_rows(args.attribute, given), args.label_names)  # before hours
    args.out = args.out or (Path("weights") if labels == GLASSES_LABELS else Path("runs") / labels.positive)
    data = prepare_once(args, args.size, given)
    listed_rows = given.rows if given else None   # every row of the file, whatever --sources and --limit kept
    detection = data.detection_counts()
    if rank() == 0:
        print("face detection per source:", json.dumps(detection), flush=True)
    train_mask = data.mask("train")
    soft, teacher_size = None, args.teacher_size or args.size
    if args.teacher:
        teacher_data = data if teacher_size == args.size else prepare_once(args, teacher_size, given)
        assert np.array_equal(teacher_data.crops.found, data.crops.found), "one detector, whatever the crop size"
        soft = teacher_targets(args.teacher, teacher_data, train_mask, device, args.run_dir)
    train_set = data.dataset(data.oversampled(train_mask, args.min_source_share), augmentations(), soft)
    val_set = data.dataset(data.mask("val"))

    model = build_student(args, args.teacher)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True)["state_dict"])
    result = fit(model, train_set, val_set, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                 seed=args.seed, run_dir=args.run_dir, resume=args.resume,
                 distill_weight=args.distill_weight if args.teacher else 0.0, device=device)
    if rank() != 0:
        dist.destroy_process_group()
        return 0

    model.load_state_dict(result.best_state)
    model = model.cpu().eval()
    calibration = None
    if args.calibrate:
        try:
            calibration = calibrate(model, data, args.mirror_average)
        except CalibrationError as err:   # a smoke run's validation split may hold one label only
            print(f"not calibrated: {err}", file=sys.stderr)
    classifier = TorchClassifier(model, "cpu")   # what glasses.Predictor runs, on PyTorch
    threshold, band = choose_threshold(classifier, data, args.mirror_average)
    test, curves = evaluate(classifier, data, threshold, band)

    args.out.mkdir(parents=True, exist_ok=True)
    weights_path = args.out / f"{labels.positive}.pt"
    save_model(model, weights_path, args.size, DEFAULT_MARGIN, threshold, args.mirror_average, band, labels)
    onnx_path = export_beside(weights_path)
    robustness = corrupted_test(onnx_path, data, args) if args.robustness else None
    plots = write_plots(args.out / "plots", result.history, curves, threshold, (labels.negative, labels.positive))
    splits = data.column("split")
    write_model_card(args.out, {
        "model": {"file": onnx_path.name, "pytorch_file": weights_path.name, **model.config(),
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "size_bytes": onnx_path.stat().st_size, "input_size": args.size,
                  "crop_margin": DEFAULT_MARGIN},
        "detector": crop_cache.DETECTOR_NAME,
        "attribute": labels.attribute,
        "labels": {"positive": labels.positive, "negative": labels.negative},
        "threshold": threshold,
        "threshold_rule": f"maximises F1 of the {labels.positive} class on the validation split"
                          + (", with mirror averaging (glasses/mirror.py)" if args.mirror_average else ""),
        "mirror_average": args.mirror_average,
        "mirror_band": band,
        "calibration": calibration,
        "provenance": provenance(args.manifest, args.decisions, raw_rows or data.rows, listed_rows or data.rows,
                                 trained_rows=len(data.rows)),
        "robustness": robustness,
        "best_epoch": result.best_epoch,
        "processes": dist.get_world_size() if dist.is_initialized() else 1,
        "distillation": {"teacher": str(args.teacher), "weight": args.distill_weight,
                         "teacher_crop_size": teacher_size} if args.teacher else None,
        "data": {"sources": sorted(set(data.column("source"))),
                 "rows_per_split": {s: int((splits == s).sum()) for s in ("train", "val", "test")},
                 "min_source_share": args.min_source_share, "train_items_per_epoch": len(train_set),
                 "face_detection": detection},
        "test_metrics": test,
        "validation_roc_auc": result.best_val_auc,
        "history": result.history,
        "plots": [path.relative_to(args.out).as_posix() for path in plots],
        "commands": [*teacher_command(args.teacher),
                     "python -m training.train " + " ".join(argv if argv is not None else sys.argv[1:])],
        "environment": {"python": platform.python_version(), "torch": torch.__version__},
    })
    print(json.dumps({"threshold": threshold, "test": test}, indent=1))
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
