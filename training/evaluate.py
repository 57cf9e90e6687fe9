"""Test-split metrics of a model file as users get them: every test photo read, its faces found by a detector,
the largest one classified (through glasses.Predictor, as the CLI and the app run it); a photo in which no
face is found is scored 0, as the CLI answers it (no_face), so a detector that misses faces pays for them.

    python -m training.evaluate --weights weights/glasses.onnx                   # the shipped detector
    python -m training.evaluate --weights OLD/glasses.onnx --detector mtcnn      # MTCNN (torch), for comparison

Unlike the card's figures (training/train.py, from the crop cache), nothing is cached: the photos are read and
searched again, with the detector as it is now.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from glasses import Predictor
from glasses.crop import as_batch, crop_face
from glasses.images import ImageError, load_image
from glasses.manifest import DEFAULT_DATA, ManifestError, load_manifest
from glasses.mirror import glasses_probs
from glasses.runtime import load_classifier
from training.calibration import expected_calibration_error
from training.metrics import summarize
from training.sources import build_manifest


def load_scorer(weights: Path, detector: str, threads: int) -> Callable[[Path], float | None]:
    """A function from a photo's path to P(glasses) of its largest face, None where no face is found; it raises
    ImageError for a photo it cannot read. glasses' own detector runs as users get it, through
    glasses.Predictor (the photo read at the scale it holds it, the crop re-read where a face needs it);
    MTCNN (training/mtcnn_detector.py, as glasses ran it before BlazeFace) on the photo read whole."""
    if detector == "blazeface":
        predictor = Predictor(weights, threads=threads)

        def largest(path: Path) -> float | None:
            faces = predictor.predict(path)
            return faces[0].glasses_prob if faces else None
        return largest
    import torch

    from training.mtcnn_detector import FaceDetector as Mtcnn
    torch.set_num_threads(threads)
    mtcnn, classifier = Mtcnn(), load_classifier(weights, threads)
    config = classifier.config

    def largest_by_mtcnn(path: Path) -> float | None:
        image = load_image(path)
        faces = mtcnn.detect(image)
        if not faces:
            return None
        crop = np.asarray(crop_face(image, faces[0].box, config["input_size"], config["crop_margin"]))[None]
        return float(glasses_probs(classifier, as_batch(crop), config["threshold"], config["mirror_band"])[0])
    return largest_by_mtcnn


def score_rows(rows: list[dict], data: Path, largest: Callable[[Path], float | None]
               ) -> tuple[np.ndarray, np.ndarray]:
    """P(glasses) of each row's largest face (0 where no face is found or the photo cannot be read), and
    whether a face was found."""
    probs, found = np.zeros(len(rows), np.float32), np.zeros(len(rows), bool)
    for i, row in enumerate(tqdm(rows, desc="test photos", file=sys.stderr)):
        try:
            prob = largest(data / row["path"])
        except ImageError:
            continue
        if prob is not None:
            probs[i], found[i] = prob, True
    return probs, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__.partition("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=Path("weights/glasses.onnx"), help="model file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder the photos are under")
    parser.add_argument("--manifest", type=Path,
                        help="the labels to score against, e.g. the reviewed relabel/reviews/manifest.csv (default: "
                             "the raw labels the importers read)")
    parser.add_argument("--sources", nargs="+", metavar="SOURCE", help="only these sources (default: all)")
    parser.add_argument("--detector", choices=("blazeface", "mtcnn"), default="blazeface")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        classifier = load_classifier(args.weights, args.threads)
    except ValueError as err:   # glasses.weights.ModelFileError names the file and says why
        parser.error(str(err))
    if args.manifest:
        try:
            rows = load_manifest(args.manifest, args.data).rows
        except ManifestError as err:
            parser.error(str(err))
        rows = [row for row in rows if not args.sources or row["source"] in args.sources]
    else:
        rows = build_manifest(args.data, *([args.sources] if args.sources else []))
    rows = [row for row in rows if row["split"] == "test"]
    if not rows:
        of = f" of {' '.join(args.sources)}" if args.sources else ""
        parser.error(f"{args.manifest or args.data}: no test rows{of}")
    probs, found = score_rows(rows, args.data, load_scorer(args.weights, args.detector, args.threads))
    labels = np.array([int(row["label"]) for row in rows])
    sources = np.array([row["source"] for row in rows])
    threshold = classifier.config["threshold"]
    metrics = {}
    for source in ["all", *sorted(set(sources))]:
        picked = np.ones(len(rows), bool) if source == "all" else sources == source
        metrics[source] = {**summarize(labels[picked], probs[picked], threshold),
                           "ece": expected_calibration_error(labels[picked], probs[picked]),
                           "no_face": int((picked & ~found).sum())}
    print(json.dumps({"weights": str(args.weights), "labels": str(args.manifest or "raw"),
                      "detector": args.detector, "threshold": threshold,
                      "metrics": metrics}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
