"""How the shipped pipeline holds up under what real photos bring: the test split scored clean and under each
corruption, photo by photo, through glasses.Predictor (detector and classifier both see the corrupted photo).

    python -m training.robustness --weights weights/glasses.onnx --manifest relabel/reviews/manifest.csv

Each corruption has one fixed, realistic severity (CORRUPTIONS), applied to the whole photo at its own size;
the seed makes the noise repeatable. Low resolution is measured on the face, not the photo: the photo is
reduced until its face spans the smallest face the detector is set to look for (FAR_FACE), because CMU's and
Olivetti's photos are already small: a third of their resolution leaves faces of 13-20 pixels, below anything
the pipeline is set to see, where CelebA-HQ's portraits are reduced further than a third. A photo in which no
face is found is scored 0, as the CLI answers it. training/data.py's augmentations train for the same kinds of
change, at random strengths.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps
from tqdm import tqdm

from glasses import ImageError, Predictor, load_image
from glasses.manifest import DEFAULT_DATA, load_manifest
from training.calibration import expected_calibration_error
from training.metrics import summarize

Corruption = Callable[[Image.Image, np.random.Generator, float], Image.Image]
"""(photo, random generator, the longer side of its largest face in the clean photo, 0 where none was found)
-> the corrupted photo at the same size."""
FAR_FACE = 40   # pixels a face spans after `low_resolution`: glasses.Predictor's default min_face_size


def sensor_noise(image: Image.Image, rng: np.random.Generator, face_side: float = 0.0) -> Image.Image:
    """Gaussian noise of 12 grey levels (of 255) on every pixel and channel: a phone photo at high ISO."""
    pixels = np.asarray(image, np.float32) + rng.normal(0, 12, (image.height, image.width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def grey(image: Image.Image, rng: np.random.Generator, face_side: float = 0.0) -> Image.Image:
    return ImageOps.grayscale(image).convert("RGB")


def low_light(image: Image.Image, rng: np.random.Generator, face_side: float = 0.0) -> Image.Image:
    """A third of the light, with the noise a sensor adds to it (4 grey levels)."""
    pixels = np.asarray(image, np.float32) / 3 + rng.normal(0, 4, (image.height, image.width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def blur(image: Image.Image, rng: np.random.Generator, face_side: float = 0.0) -> Image.Image:
    """Out of focus: a Gaussian blur of 0.6% of the longer side (1.5 px on a 256 px portrait)."""
    return image.filter(ImageFilter.GaussianBlur(0.006 * max(image.size)))


def jpeg(image: Image.Image, rng: np.random.Generator, face_side: float = 0.0) -> Image.Image:
    """Saved again as a JPEG of quality 20: a photo passed around messaging apps."""
    from io import BytesIO

    out = BytesIO()
    image.save(out, "JPEG", quality=20)
    return Image.open(BytesIO(out.getvalue())).convert("RGB")


def low_resolution(image: Image.Image, rng: np.random.Generator, face_side: float = 0.0) -> Image.Image:
    """Taken from farther away or on a cheaper sensor, and shown enlarged: the photo reduced until its face
    spans FAR_FACE pixels, then enlarged back to its size (a 256 px CelebA-HQ portrait, whose face box spans
    about 155, from 66 px). A face already that small, or none found, leaves the photo as it is."""
    factor = face_side / FAR_FACE
    if factor <= 1:
        return image.copy()
    small = image.resize((max(1, round(image.width / factor)), max(1, round(image.height / factor))), Image.BILINEAR)
    return small.resize(image.size, Image.BICUBIC)


CORRUPTIONS: dict[str, Corruption] = {"sensor noise": sensor_noise, "grey": grey, "low light": low_light,
                                      "blur": blur, "JPEG quality 20": jpeg, "low resolution": low_resolution}


def robustness_table(predictor: Predictor, rows: list[dict], data_root: Path, seed: int = 0) -> dict[str, dict]:
    """Per condition ("clean", then each of CORRUPTIONS): the metrics of `rows` (test rows of a manifest) at the
    predictor's threshold, with the expected calibration error and the photos in which no face was found (an
    unreadable photo counts as one). "clean" reads each file as users' photos are read (Predictor.predict on
    the path); a corruption is applied to the photo decoded whole, given the side of the largest face found in
it clean."""
    rng = np.random.default_rng(seed)
    labels = np.array([int(row["label"]) for row in rows])
    conditions = {"clean": None, **CORRUPTIONS}
    probs = {name: np.zeros(len(rows)) for name in conditions}
    missed = {name: 0 for name in conditions}
    for i, row in enumerate(tqdm(rows, desc="robustness", file=sys.stderr)):
        try:
            image = load_image(data_root / row["path"])
        except ImageError:
            for name in conditions:
                missed[name] += 1
            continue
        face_side = 0.0
        for name, corrupt in conditions.items():
            faces = predictor.predict(data_root / row["path"] if corrupt is None else corrupt(image, rng, face_side))
            if corrupt is None and faces:
                x1, y1, x2, y2 = faces[0].box
                face_side = max(x2 - x1, y2 - y1)
            probs[name][i] = faces[0].glasses_prob if faces else 0.0
            missed[name] += not faces
    return {name: dict(summarize(labels, probs[name], predictor.threshold),
                       ece=expected_calibration_error(labels, probs[name]), no_face=missed[name])
            for name in conditions}


def format_table(table: dict[str, dict]) -> str:
    """The table as Markdown: F1, recall, precision, ROC-AUC, ECE and photos without a face, per condition."""
    lines = ["| condition | F1 | recall | precision | ROC-AUC | ECE | no face |", "|---|---|---|---|---|---|---|"]
    for name, m in table.items():
        lines.append(f"| {name} | {m['f1']} | {m['recall']} | {m['precision']} | {m['roc_auc']} | {m['ece']} | "
                     f"{m['no_face']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.robustness", description=__doc__.partition("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=Path("weights/glasses.onnx"), help="model file")
    parser.add_argument("--manifest", type=Path, required=True, help="manifest whose test rows are scored")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder the paths are under")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--card", type=Path, metavar="FOLDER",
                        help="also record the table in the model card in FOLDER (model_card.json and .md)")
    args = parser.parse_args(argv)
    if args.card and not (args.card / "model_card.json").is_file():
        parser.error(f"--card {args.card}: no model_card.json there")
    try:
        predictor = Predictor(args.weights, threads=args.threads)
        manifest = load_manifest(args.manifest, args.data)
    except ValueError as err:   # ModelFileError and ManifestError name the file and say why
        parser.error(str(err))
    rows = [row for row in manifest.rows if row["split"] == "test"]
    if not rows:
        parser.error(f"{args.manifest}: no test rows")
    table = robustness_table(predictor, rows, manifest.data_root, args.seed)
    print(json.dumps(table, indent=1))
    print(format_table(table))
    if args.card:
        from training.model_card import add_robustness

        add_robustness(args.card, table, " ".join(["python -m training.robustness", *(argv or sys.argv[1:])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
