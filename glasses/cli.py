"""`python -m glasses predict PATH...`: one row per face; flags mirror glasses.Predictor's arguments.

Exit status: 0 when every input was read, 1 when some could not be (after all others were processed),
2 for a usage error or when the results cannot be written (a full disk).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from tqdm import tqdm

from glasses.config import DEFAULTS, Config, ConfigError, load_config
from glasses.images import ImageError
from glasses.inputs import Input, as_many_item, expand_inputs
from glasses.overlay_files import OverlayFolder
from glasses.prediction import COLUMNS, columns
from glasses.predictor import Predictor
from glasses.report import FORMATS, PredictionWriter
from glasses.runtime import DEVICE_HINT, RETIRED_BACKEND_HINT
from glasses.weights import DEFAULT_WEIGHTS
from glasses.zips import ZipEntry, ZipLimits

EXIT_OK, EXIT_SOME_UNREADABLE = 0, 1
EXIT_USAGE = 2  # argparse's status for usage errors; results that cannot be written exit with it too


def build_parser(config: Config | None = None) -> argparse.ArgumentParser:
    """`config`: where the detector's and the pixel limit's defaults come from (default: load_config(), the
    GLASSES_* environment variables over the built-in values; glasses/config.py)."""
    config = load_config() if config is None else config
    parser = argparse.ArgumentParser(prog="python -m glasses",
                                     description="Tell, for every face in a photo, whether glasses are worn.",
                                     epilog="Run `python -m glasses predict --help` for the output columns, "
                                            "formats and exit status.")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser(
        "predict", help="classify every face in images and folders",
        description="Print, for each image, its faces: as JSON objects (--format json, jsonl; "
                    "docs/prediction.schema.json) or one row per face (table, csv) with the columns "
                    f"{','.join(COLUMNS)}. face 0 is the largest face; width, height and boxes are in pixels of the "
                    "image as a viewer shows it. label is glasses or no_glasses (a model of another attribute, "
                    "--weights hat.onnx: its own names, hat or no_hat, and hat_prob for glasses_prob); in rows, "
                    "no_face (one row) when no face is found, or error (one row; the error column says why).",
        epilog="Exit status: 0 every input was read; 1 some could not be (all others were still processed); "
               "2 usage error, or the results could not be written.")
    predict.add_argument("paths", nargs="+", metavar="PATH",
                         help="image files, zips of images (each image in it is one result, named ZIP/MEMBER) or "
                              "folders (walked recursively; files that are not images are skipped)")
    predict.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    predict.add_argument("--output", "-o", metavar="FILE", help="write results to FILE instead of stdout")
    predict.add_argument("--overlay", metavar="DIR",
                         help="also save each photo with its boxes, labels and confidences drawn, under DIR (made "
                              "if absent), mirroring the inputs' folders; JPEGs stay JPEG, other images become "
                              "PNG. DIR must lie outside the inputs")
    predict.add_argument("--threshold", type=_probability, default=None,
                         help="glasses_prob at or above which a face is labelled glasses "
                              "(default: the model's, chosen on validation data; see weights/model_card.md)")
    predict.add_argument("--weights", default=str(DEFAULT_WEIGHTS),
                         help="model file: an ONNX export, or a .pt with its export beside it (default: %(default)s)")
    predict.add_argument("--min-face-size", type=_positive_int, default=config.min_face_size,
                         help="smallest face to look for, in pixels (default: %(default)s; smaller is slower)")
    predict.add_argument("--max-side", type=_positive_int, default=config.max_side,
                         help="the largest canvas face detection searches, in pixels on its longer side; in larger "
                              "photos the smallest face found grows with the photo (default: %(default)s)")
    predict.add_argument("--max-pixels", type=_positive_int, default=config.max_pixels,
                         help="refuse images with more pixels than this (default: %(default)s)")
    predict.add_argument("--threads", type=_positive_int, default=None,
                         help="CPU threads for onnxruntime (default: all cores)")
    # Flags glasses takes no value from (it runs on onnxruntime on the CPU): refused, with what to use instead,
    # rather than silently ignored.
    predict.add_argument("--device", action=_Retired, help=argparse.SUPPRESS, hint=DEVICE_HINT)
    predict.add_argument("--backend", action=_Retired, help=argparse.SUPPRESS, hint=RETIRED_BACKEND_HINT)
    predict.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    predict.set_defaults(parser=predict)  # so that errors found after parsing show this command's usage
    return parser


class _Retired(argparse.Action):
    """A flag glasses has no use for: using it is a usage error that says what to do instead."""

    def __init__(self, option_strings, dest, hint: str, **kwargs):
        super().__init__(option_strings, dest, nargs="?", **kwargs)
        self.hint = hint

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} is not used: {self.hint}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    try:
        config = load_config()
    except ConfigError as err:   # a GLASSES_* variable that sets a default: a usage error, not a traceback
        build_parser(DEFAULTS).error(str(err))
    args = build_parser(config).parse_args(argv)
    parser = args.parser
    inputs = expand_inputs(args.paths, ZipLimits.from_config(config))
    if args.output and any(_same_file(args.output, path) for path in _files_read(inputs)):
        parser.error(f"--output {args.output} is one of the inputs; writing to it would destroy it before it is read")
    try:
        overlays = OverlayFolder.plan(args.overlay, args.paths, inputs) if args.overlay else None
    except ValueError as err:
        parser.error(str(err))
    try:
        predictor = Predictor(args.weights, threshold=args.threshold, min_face_size=args.min_face_size,
                              max_side=args.max_side, max_pixels=args.max_pixels, threads=args.threads)
    except (OSError, ValueError, RuntimeError) as err:
        parser.error(str(err))
    output = args.output or "standard output"
    try:
        out = open(args.output, "w", newline="", encoding="utf-8") if args.output else contextlib.nullcontext(sys.stdout)
        with out as stream:
            writer = PredictionWriter(args.format, stream, columns(predictor.labels))   # the model's columns
            return _predict_all(predictor, inputs, writer, args.quiet, overlays)
    except BrokenPipeError:
        raise  # output piped into `head` and the like: glasses.__main__ ends quietly
    except OSError as err:  # a full disk, a vanished network share: the results are not all written
        written = err.filename or output   # an overlay's error names its file
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: cannot write {written}: {err.strerror or err}\n")


def _same_file(output: str, path: str) -> bool:
    """Whether `output` names `path`, however spelt (links, `..`), so that writing it would empty that input."""
    try:
        return os.path.samefile(output, path)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(output) == os.path.realpath(path)


def _files_read(inputs: list[Input]) -> set[str]:
    """The files on disk that `inputs` read: each file's path, each zip entry's zip."""
    return {item.zip_path if isinstance(item, ZipEntry) else item
            for item in inputs if not isinstance(item, ImageError)}


def _predict_all(predictor: Predictor, inputs: list[Input], writer: PredictionWriter, quiet: bool,
                 overlays: OverlayFolder | None) -> int:
    """Each input's Prediction written as it is made; with `overlays`, each photo is kept at full size to draw
    on. Returns the exit status."""
    unreadable = 0
    show_side = sys.maxsize if overlays else None   # the overlay is drawn on the photo at full size
    results = predictor.predict_many(map(as_many_item, inputs), show_side=show_side)
    for prediction in tqdm(results, total=len(inputs), desc="images", unit="img", file=sys.stderr,
                           disable=quiet or len(inputs) < 2 or None):
        writer.write(prediction)
        if prediction.error is not None:
            unreadable += 1
        elif overlays:
            overlays.save(prediction.name, prediction.photo.image, list(prediction.faces))
    writer.close()
    return EXIT_SOME_UNREADABLE if unreadable else EXIT_OK
