"""Speed and face recall of glasses.Predictor on real photos, against MTCNN run with its defaults.

    python bench/speed.py [--per-source 100] [--threads 2]

Prints, per source in ../shared/data: median ms per image end-to-end (read, detect, crop, classify) for our
detector settings and for facenet-pytorch's default MTCNN feeding the same classifier (the baseline, measured
in the same run), the ratio between them, the share of images in which each finds a face, and the
classifier's median ms per face: alone (the third call in a row on the same crop), right after detection (its
first call after MTCNN ran, as inside `predict`), on the backend the Predictor picked (onnxruntime where the
export sits beside the weights), and alone on PyTorch; and the share of those faces that took the mirror pass
(glasses/mirror.py), which doubles their time. Then, on celeba_hq, ours end to end against the same
Predictor with onnxruntime's default of threads that spin after each run (glasses/runtime.py), in turns; and
the classifier alone with the mirror pass near the threshold (ours) against on every face, alternating.
"""
from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from facenet_pytorch import MTCNN

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from glasses import Predictor, load_image  # noqa: E402
from glasses.crop import as_batch, crop_face  # noqa: E402
from glasses.mirror import EVERY_FACE, near_threshold  # noqa: E402
from glasses.runtime import OnnxClassifier, onnx_export_of  # noqa: E402
from glasses.weights import DEFAULT_WEIGHTS  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = {"celeba_hq": "celeba_hq/images/*.jpg", "olivetti": "olivetti/images/*.png",
           "cmu_faces": "cmu_faces/*/*.pgm", "yalefaces": "yalefaces/subject*"}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - started) * 1000


def baseline_predict(mtcnn: MTCNN, predictor: Predictor, path: str) -> int:
    """MTCNN(keep_all=True) with facenet-pytorch's defaults, faces at p >= 0.9, then the same classifier."""
    image = load_image(path)
    boxes, probs = mtcnn.detect(image)
    boxes = [] if boxes is None else [b for b, p in zip(boxes.astype(float), probs.astype(float)) if p >= 0.9]
    predictor.classify([crop_face(image, box, predictor.input_size, predictor.crop_margin) for box in boxes])
    return len(boxes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-source", type=int, default=100, help="images sampled from each source")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs the real photos in {DATA}")
    torch.set_num_threads(args.threads)
    predictor, baseline = Predictor(args.weights), MTCNN(keep_all=True, device="cpu")
    torch_classifier = Predictor(args.weights, backend="torch")
    rng = random.Random(args.seed)
    print(f"threads={args.threads}, {args.per_source} images per source, seed {args.seed}, "
          f"classifier backend {predictor.backend}")
    print(f"{'source':<10} {'ours ms':>8} {'base ms':>8} {'speed-up':>8} {'ours found':>11} {'base found':>11} "
          f"{'clf ms/face':>11} {'after detect':>12} {'torch clf ms':>12} {'mirror pass':>11}")
    celeba: list[str] = []
    celeba_crops = []
    for source, pattern in SOURCES.items():
        paths = sorted(str(p) for p in DATA.glob(pattern))
        paths = rng.sample(paths, min(args.per_source, len(paths)))
        for path in paths[:3]:  # warm-up: first calls allocate
            predictor.predict(path)
        ours, base, clf, after_detect, torch_clf, mirror, crops, found, base_found = [], [], [], [], [], [], [], 0, 0
        for path in paths:
            faces, ms = timed(predictor.predict, path)
            ours.append(ms)
            found += bool(faces)
            n, ms = timed(baseline_predict, baseline, predictor, path)
            base.append(ms)
            base_found += bool(n)
            if faces:
                image = load_image(path)
                crop = crop_face(image, faces[0].box, predictor.input_size, predictor.crop_margin)
                crops.append(crop)
                predictor.detector.detect(image)
                after_detect.append(timed(predictor.classify, [crop])[1])
                clf.append([timed(predictor.classify, [crop])[1] for _ in range(3)][-1])
                torch_clf.append([timed(torch_classifier.classify, [crop])[1] for _ in range(3)][-1])
                mirror += near_threshold(predictor.classifier(as_batch(np.asarray(crop)[None])),
                                         predictor.threshold, predictor.mirror_band).tolist()
        ours_ms, base_ms = statistics.median(ours), statistics.median(base)
        print(f"{source:<10} {ours_ms:8.1f} {base_ms:8.1f} {base_ms / ours_ms:7.2f}x "
              f"{found:>5}/{len(paths):<5} {base_found:>5}/{len(paths):<5} "
              f"{median(clf):11.2f} {median(after_detect):12.2f} {median(torch_clf):12.2f} "
              f"{np.mean(mirror) if mirror else float('nan'):11.0%}")
        if source == "celeba_hq":
            celeba = paths
            celeba_crops = crops
    compare_spinning(predictor, args.weights, celeba, args.threads)
    compare_mirror(predictor, celeba_crops)
    return 0


def compare_spinning(predictor: Predictor, weights: str, paths: list[str], threads: int) -> None:
    """Ours end to end against a Predictor whose onnxruntime threads spin after each run (its default), in
    blocks of all images each (ABAB: spinning threads would slow whatever runs next, so no alternating)."""
    onnx_path, why_not = onnx_export_of(Path(weights))
    if predictor.backend != "onnx" or onnx_path is None:
        print(f"spinning comparison skipped: the classifier runs on {predictor.backend} ({why_not})")
        return
    spinning = Predictor(weights)
    spinning.classifier = OnnxClassifier(onnx_path, threads, spin_after_run=True)
    times = {"ours": [], "spinning": []}
    for _ in range(2):
        for name, each in (("ours", predictor), ("spinning", spinning)):
            times[name] += [timed(each.predict, path)[1] for path in paths]
    ours_ms, spinning_ms = median(times["ours"]), median(times["spinning"])
    print(f"celeba_hq end to end, onnxruntime threads stopped after each run (ours) {ours_ms:.1f} ms, "
          f"left spinning (onnxruntime's default) {spinning_ms:.1f} ms: {spinning_ms / ours_ms:.2f}x")


def compare_mirror(predictor: Predictor, crops: list) -> None:
    """The classifier alone (third call in a row) per face, with the mirror pass only near the threshold (the
    model file's band) and on every face, alternating crop by crop."""
    every = copy.copy(predictor)
    every.mirror_band = EVERY_FACE
    times = {"near": [], "every": []}
    for crop in crops:
        for name, each in (("near", predictor), ("every", every)):
            times[name].append([timed(each.classify, [crop])[1] for _ in range(3)][-1])
    near_ms, every_ms = median(times["near"]), median(times["every"])
    print(f"celeba_hq classifier alone, mirror pass near the threshold (ours) {near_ms:.2f} ms a face, on every "
          f"face {every_ms:.2f} ms: {every_ms / near_ms:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
