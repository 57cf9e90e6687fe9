"""`python -m glasses predict PATH...`: one row per face; flags mirror glasses.Predictor's arguments. Many photos:
--workers (glasses/parallel.py), --resume (glasses/resume.py), --engine ray (glasses/ray_engine.py), --device
cuda with crops batched across photos (glasses/batched.py); every one writes the rows a plain run writes.

Exit status: 0 when every input was read, 1 when some could not be (after all others were processed),
2 for a usage error or when the results cannot be written (a full disk).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from dataclasses import replace

from tqdm import tqdm

from glasses.batched import DEFAULT_BATCH
from glasses.config import DEFAULTS, Config, ConfigError, load_config
from glasses.detect import default_threads
from glasses.images import ImageError
from glasses.inputs import Input, as_many_item, expand_inputs
from glasses.overlay_files import OverlayFolder
from glasses.labels import LabelNames
from glasses.parallel import TIMEOUT, Settings, StartupError, WorkerError, WorkerPool
from glasses.prediction import COLUMNS, columns
from glasses.predictor import Predictor
from glasses.ray_engine import RayEngineError
from glasses.report import FORMATS, PredictionWriter
from glasses.resume import ResumeError, check_resumable, open_for_resume, read_progress, remaining
from glasses.runtime import DEVICES, RETIRED_BACKEND_HINT
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
                         help="glasses_prob at or above which a face is labelled glasses (a model of another "
                              "attribute: its probability and positive label) (default: the model's, chosen on "
                              "validation data; see its model card)")
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
                         help="CPU threads for onnxruntime in each worker (default: all cores over --workers, at "
                              "least 1; a Ray actor: 1)")
    predict.add_argument("--workers", type=_positive_int, default=None,
                         help="processes on this machine, each with its own detector and classifier, rows written "
                              "in input order as in one process (default: 1); with --engine ray, the number of "
                              "actors (default: one a CPU of the cluster)")
    predict.add_argument("--resume", action="store_true",
                         help="continue a stopped run (Ctrl-C, kill -9) from --output FILE (csv or jsonl): photos "
                              "it holds are skipped, a torn last line cut off, the rest appended in order")
    predict.add_argument("--timeout", metavar="SECONDS", type=_positive_seconds, default=None,
                         help=f"the longest one photo may take: a worker process still on one photo after SECONDS "
                              f"is stopped, the photo gets an error row and the run goes on (default: {TIMEOUT:g} "
                              f"with --workers 2 or more; with --workers 1, giving it predicts in one worker "
                              f"process, which can be stopped, instead of in this one)")
    predict.add_argument("--engine", choices=("local", "ray"), default="local",
                         help="local: this machine's processes; ray: Ray Data actors on a local Ray instance or "
                              "the cluster --address names (pip install \"glasses[ray]\"; docs/scale.md)")
    predict.add_argument("--address", metavar="ADDR",
                         help="the Ray cluster for --engine ray: auto, HOST:6379 or ray://HOST:10001 (default: a "
                              "local instance, or $RAY_ADDRESS as ray job submit sets it)")
    predict.add_argument("--device", choices=DEVICES, default="cpu",
                         help="where the classifier runs: cpu, or cuda (an NVIDIA GPU through onnxruntime-gpu), "
                              "its crops batched across photos (default: cpu)")
    predict.add_argument("--batch-size", type=_positive_int, default=None,
                         help=f"classify the crops of many photos together, in runs of up to N faces (default: "
                              f"{DEFAULT_BATCH} with --device cuda, else photo by photo); the rows are the same")
    # A flag glasses takes no value from (the classifier always runs on onnxruntime): refused, with what to use
    # instead, rather than silently ignored.
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


def _number(text: str, kind: type, fits, must: str):
    """`text` as a `kind` for which `fits(value)` holds; else argparse's error, saying what it `must` be (a
    word that is no number gets the same words as a number out of range, with the flag's name, which argparse
    adds)."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not fits(value):
        raise argparse.ArgumentTypeError(f"must be {must}, got {text}")
    return value


def _positive_int(text: str) -> int:
    return _number(text, int, lambda value: value >= 1, "a positive whole number")


def _positive_seconds(text: str) -> float:
    return _number(text, float, lambda value: 0.0 < value < 1e9, "a positive number of seconds")   # not inf, nan


def _probability(text: str) -> float:
    return _number(text, float, lambda value: 0.0 <= value <= 1.0, "between 0 and 1")


def main(argv: list[str] | None = None) -> int:
    try:
        config = load_config()
    except ConfigError as err:   # a GLASSES_* variable that sets a default: a usage error, not a traceback
        build_parser(DEFAULTS).error(str(err))
    args = build_parser(config).parse_args(argv)
    parser = args.parser
    _check_engine(args, parser)
    if args.resume:
        try:
            check_resumable(args.format, args.output)
        except ResumeError as err:
            parser.error(str(err))
    inputs = expand_inputs(args.paths, ZipLimits.from_config(config))
    if args.output and any(_same_file(args.output, path) for path in _files_read(inputs)):
        parser.error(f"--output {args.output} is one of the inputs; writing to it would destroy it before it is read")
    try:
        overlays = OverlayFolder.plan(args.overlay, args.paths, inputs) if args.overlay else None
    except ValueError as err:
        parser.error(str(err))
    settings = _settings(args, overlays)
    with contextlib.ExitStack() as stack:
        try:   # says what is wrong with the flags: a worker's Predictor, or this process's
            if args.engine == "local" and ((args.workers or 1) > 1 or args.timeout):   # this one hands out, writes
                engine = stack.enter_context(WorkerPool(settings, args.workers or 1, overlays,
                                                        timeout=args.timeout or TIMEOUT))
                labels = engine.labels()
            else:   # a Ray driver's only checks them, on the CPU: the cluster's nodes may have the GPUs it lacks
                engine = (replace(settings, device="cpu") if args.engine == "ray" else settings).predictor()
                labels = engine.labels
        except (OSError, ValueError, RuntimeError) as err:   # StartupError and WorkerError among them
            parser.error(str(err))
        return _run(args, parser, settings, engine, labels, inputs, overlays)


def _run(args, parser, settings: Settings, engine: Predictor | WorkerPool, labels: LabelNames, inputs: list[Input],
         overlays: OverlayFolder | None) -> int:
    """The run once its flags are checked: resume where asked, predict, write; the exit status. The CSV's and
    the table's columns are the model's (its probability's column is named after its positive label)."""
    done_errors, header, model_columns = 0, True, columns(labels)
    if args.resume:
        try:
            progress = read_progress(args.output, args.format, model_columns)
        except ResumeError as err:
            parser.error(str(err))
        inputs, done_errors, header = remaining(inputs, progress, _name_of), progress.errors, not progress.header
    output = args.output or "standard output"
    try:
        if args.resume:
            out = open_for_resume(args.output, progress)
        elif args.output:
            out = open(args.output, "w", newline="", encoding="utf-8")
        else:
            out = contextlib.nullcontext(sys.stdout)
        with out as stream:
            predictions, drawn_here = _predictions(args, settings, engine, inputs, overlays)
            writer = PredictionWriter(args.format, stream, header, model_columns)
            unreadable = _write_all(predictions, len(inputs), writer, args.quiet, overlays if drawn_here else None)
            return EXIT_SOME_UNREADABLE if unreadable + done_errors else EXIT_OK
    except BrokenPipeError:
        raise  # output piped into `head` and the like: glasses.__main__ ends quietly
    except OSError as err:  # a full disk, a vanished network share: the results are not all written
        written = err.filename or output   # an overlay's error names its file
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: cannot write {written}: {err.strerror or err}\n")
    except StartupError as err:    # a worker could not build its Predictor: the flags' fault
        parser.error(str(err))
    except (WorkerError, RayEngineError) as err:
        parser.exit(EXIT_USAGE, f"{parser.prog}: error: {err}; the rows written so far are kept"
                                f"{' (--resume continues from them)' if args.output else ''}\n")


def _check_engine(args, parser) -> None:
    """Flags that do not go together, and the Ray engine without Ray: usage errors before anything runs."""
    if args.address and args.engine != "ray":
        parser.error("--address names a Ray cluster: use it with --engine ray")
    if args.timeout and args.engine == "ray":
        parser.error("--timeout stops this machine's worker processes: use it with --engine local")
    if args.engine == "ray":
        from glasses.ray_engine import RayMissing, import_ray

        try:
            import_ray()
        except RayMissing as err:
            parser.error(f"--engine ray: {err}")


def _settings(args, overlays: OverlayFolder | None) -> Settings:
    """What every worker builds its Predictor from: a fair share of this machine's cores each (a Ray actor: one),
    unless --threads says."""
    workers = args.workers or 1
    if args.engine == "ray":   # one core an actor, as many actors as the cluster has cores (unless --workers)
        threads = args.threads or 1
    else:
        threads = args.threads or (max(1, default_threads() // workers) if workers > 1 else None)
    batch_size = args.batch_size or (DEFAULT_BATCH if args.device == "cuda" else None)
    return Settings(weights=args.weights, threshold=args.threshold, min_face_size=args.min_face_size,
                    max_side=args.max_side, max_pixels=args.max_pixels, threads=threads or default_threads(),
                    device=args.device, batch_size=batch_size,
                    show_side=sys.maxsize if overlays else None)   # the overlay is drawn on the photo at full size


def _predictions(args, settings: Settings, engine: Predictor | WorkerPool, inputs: list[Input],
                 overlays: OverlayFolder | None):
    """The engine's Predictions of `inputs`, in their order, and whether overlays are this process's to save
    (else the workers save them, so that full-size photos never cross a pipe)."""
    if args.engine == "ray":
        from glasses.ray_engine import predict_ray

        return predict_ray(inputs, settings, args.workers, args.address, overlays), False
    if isinstance(engine, WorkerPool):
        return engine.predict(inputs, len(inputs)), False
    return settings.predict(engine, map(as_many_item, inputs)), True


def _name_of(item: Input) -> str:
    """How an input's Prediction is named."""
    if isinstance(item, ImageError):
        return item.source
    return item.name if isinstance(item, ZipEntry) else item


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


def _write_all(predictions, total: int, writer: PredictionWriter, quiet: bool,
               overlays: OverlayFolder | None) -> int:
    """Each Prediction written as it comes, with a progress bar of images a second; with `overlays`, each
    photo's overlay saved here. Returns how many inputs could not be read."""
    unreadable = 0
    for prediction in tqdm(predictions, total=total, desc="images", unit="img", file=sys.stderr,
                           disable=quiet or total < 2 or None):
        writer.write(prediction)
        if prediction.error is not None:
            unreadable += 1
        if overlays:
            overlays.save_for(prediction)
    writer.close()
    return unreadable
