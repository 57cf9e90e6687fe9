"""Speed and face finding of glasses.Predictor (BlazeFace on onnxruntime, glasses/detect.py) against baselines
measured in the same run, on real photos from ../shared/data and on photos composed from them.

    python bench/speed.py                             # quick: small samples, 6-7 minutes
    python bench/speed.py --full                      # the full figures: 1-2 hours
    python bench/speed.py --full --skip-mtcnn-found   # the same without MTCNN's face counts: about 20 minutes
    python bench/speed.py --only e2e,large --photos 500 --threads 2   # some sections, other sizes

Each section's figures also go to --json (default bench/results/speed.json), each with the command and date
that produced it: a run of some sections replaces those and keeps the others. bench/tables.py renders them.

(Times measured on 2 cores shared with a training job; all but about 20 minutes of the full run is MTCNN on
all 14,200 celeba_hq photos, 0.17-0.55 s a photo there.)

Every timing alternates ours and the baseline photo by photo (and which of the two goes first), so that drift
in the machine's speed (another job, thermal limits) falls on both alike; the first two photos of each such
section are run once untimed first, as first calls allocate. All times are wall-clock medians on `--threads`
threads (onnxruntime's, via Predictor(threads=...); torch's, for MTCNN; dlib's detector is single-threaded).
e2e runs before torch is imported. Later, torch's OpenMP threads may spin for a moment after each MTCNN call
and slow whatever runs next on the same cores, which in groups and found is ours: if anything, that counts
against ours.

Sections (--only picks some; each prints a plain-text table):

e2e    End to end on 256 px CelebA-HQ photos (--photos sampled). ours: Predictor.predict(path), which reads,
       detects, crops and classifies. baseline: dlib's HOG frontal face detector on the decoded photo
       (glasses.load_image, then np.asarray; upsample 0, and upsample 1 only where that found nothing), then the
       same classifier (Predictor.classify) on glasses.crop.crop_face crops of its boxes. Printed: median ms a
       photo for each, ours/baseline (target: at most 0.4), and where ours spends its time: detection
       (predictor.detector.detect) and classification (predictor.classify), timed from inside predict, and
       decode (the rest of predict's time: reading the file, and cutting the crops).
large  The same on 2, 6 and 12 MP group photos (bench/group_photos.py, from the portraits of groups below, and
       --seed; --large per size), saved as JPEG (quality 90) in a temporary folder first, so that both
       pipelines decode a file. Their faces are 80-400 px wide, sizes dlib's 80-pixel HOG window finds without
       upsampling, so the baseline takes its fast path. Printed by megapixels: true faces and those each
       pipeline found, median ms each (and ours' detection alone) and ours/baseline (target: at most 0.7).
found  Photos in which a face is found, per source: celeba_hq (--source-photos sampled; all 14,200 with
       --full), olivetti (400 64 px crops), yalefaces (all 164 files; also its 30 labelled ones, glasses and
       noglasses), cmu_faces (313, some in profile). ours: Predictor.predict(path); MTCNN:
       training/mtcnn_detector.FaceDetector() with its defaults (MTCNN on torch), on the
       same photos (--skip-mtcnn-found leaves it out: on all of celeba_hq it takes most of the full run). The
       ms columns are each one's median a photo, for scale only: the two are not alternated here.
       Target: at least as many as MTCNN, and in the full run the recorded targets printed beside the counts
       (celeba_hq 14,195 of 14,200; olivetti 397/400; yalefaces labelled 30/30; cmu_faces 224/313).
groups Recall by face width on group photos: CelebA-HQ portraits (the first --portraits of the photos at
       --portrait-range, positions in the photos sorted by number, where MTCNN finds exactly one face) pasted
       with faces of 40-400 px onto 2, 6 and 12 MP canvases (--group-photos per width and canvas;
       --group-seed: keep it apart from any seed used to tune the detector). The truth is MTCNN's box on each portrait (bench/group_photos.py says why, and how a found
       box matches). ours: predictor.detector.detect on the composed photo; MTCNN: its FaceDetector() defaults.
       Printed: per face width, the share of true faces each finds (target: ours at least MTCNN's); each one's
       median detection ms a photo, overall and per canvas (target: ours no more than MTCNN's); and false
       detections, found boxes that match no true face.
empty  Faces found on photos with no person or animal in them (bench/no_people.py): scikit-image's samples that
       load offline, and synthetic gradients, noise, stripes and checkerboards from 256x256 to 4000x3000
       (--seed). ours: Predictor.predict on the image. Printed: faces per image and the total (target: 0).

Bench-only dependencies (not needed by glasses itself): dlib-bin (the dlib baseline), scikit-image (the
photos without people), and facenet-pytorch with torch (MTCNN, also used by training).
"""
from __future__ import annotations

import argparse
import inspect
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench import group_photos as groups  # noqa: E402
from bench import no_people  # noqa: E402
from bench import results  # noqa: E402
from glasses import ImageError, Predictor, load_image  # noqa: E402
from glasses.crop import crop_face  # noqa: E402

DATA = REPO.parent / "shared" / "data"
CELEBA = "celeba_hq/images/*.jpg"
SOURCES = {"celeba_hq": CELEBA, "olivetti": "olivetti/images/*.png", "yalefaces": "yalefaces/subject*",
           "cmu_faces": "cmu_faces/*/*.pgm"}
# Targets recorded for whole sources (photos with a face found, of all): MTCNN's counts where the target is
# "as many as MTCNN", celeba_hq's at most 5 missed of 14,200.
FOUND_TARGETS = {"celeba_hq": (14195, 14200), "olivetti": (397, 400), "yalefaces labelled": (30, 30),
                 "cmu_faces": (224, 313)}
E2E_TARGET, LARGE_TARGET = 0.4, 0.7
SECTIONS = ("e2e", "large", "found", "groups", "empty")
WARM_UP = 2
LARGE_FACE_WIDTHS = tuple(width for width in groups.FACE_WIDTHS if width >= 80)   # dlib's HOG window is 80 px


@dataclass(frozen=True)
class Sizes:
    photos: int          # e2e: CelebA-HQ photos
    large: int           # large: group photos per canvas
    source_photos: int   # found: photos sampled per source (0: all)
    portraits: int       # groups: portraits to compose from
    group_photos: int    # groups: photos per face width and canvas


QUICK = Sizes(photos=200, large=2, source_photos=100, portraits=100, group_photos=1)
FULL = Sizes(photos=1000, large=10, source_photos=0, portraits=1000, group_photos=5)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true",
                        help=f"the full figures' sizes: {FULL} (0: every photo); explicit flags override them")
    parser.add_argument("--photos", type=int, help=f"e2e: CelebA-HQ photos (quick {QUICK.photos})")
    parser.add_argument("--large", type=int, help=f"large: group photos per canvas size (quick {QUICK.large})")
    parser.add_argument("--source-photos", type=int,
                        help=f"found: photos sampled per source, 0 for all (quick {QUICK.source_photos})")
    parser.add_argument("--portraits", type=int, help=f"groups: portraits to compose from (quick {QUICK.portraits})")
    parser.add_argument("--group-photos", type=int,
                        help=f"groups: photos per face width and canvas (quick {QUICK.group_photos})")
    parser.add_argument("--portrait-range", default="13000:14200",
                        help="groups and large: the CelebA-HQ photos portraits come from, as positions "
                             "START:STOP in the photos sorted by number (default %(default)s)")
    parser.add_argument("--group-seed", type=int, default=20261201,
                        help="groups: seed of the composition, apart from any used in tuning (default %(default)s)")
    parser.add_argument("--skip-mtcnn-found", action="store_true", help="found: count ours only")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="sampling, large photos and synthetic images")
    parser.add_argument("--weights", help="the classifier's weights (default: the shipped ones)")
    results.add_json_flag(parser, "speed")
    args = parser.parse_args()
    base = FULL if args.full else QUICK
    args.sizes = Sizes(**{field: getattr(base, field) if getattr(args, field) is None else getattr(args, field)
                          for field in Sizes.__dataclass_fields__})
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


# ---------------------------------------------------------------------------------------------------- helpers

def median(values) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def timed(fn, *args):
    """fn(*args) and the wall-clock ms it took."""
    started = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - started) * 1000


@dataclass
class Turn:
    """One item run by both pipelines: what each returned and the ms it took."""

    item: object
    ours: object
    ours_ms: float
    base: object
    base_ms: float


def in_turns(items, ours, baseline) -> list[Turn]:
    """Run ours(item) and baseline(item) on every item, alternating which goes first, so that neither always
    runs on caches (or a CPU clock) the other left; the first WARM_UP items are run once untimed first."""
    items = list(items)
    for item in items[:WARM_UP]:
        ours(item), baseline(item)
    turns = []
    for i, item in enumerate(items):
        if i % 2 == 0:
            mine, my_ms = timed(ours, item)
            theirs, their_ms = timed(baseline, item)
        else:
            theirs, their_ms = timed(baseline, item)
            mine, my_ms = timed(ours, item)
        turns.append(Turn(item, mine, my_ms, theirs, their_ms))
    return turns


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def sample(paths: list[str], count: int, rng: random.Random) -> list[str]:
    """`count` of `paths` at random (all of them, in order, for 0 or more than there are)."""
    return paths if count <= 0 or count >= len(paths) else rng.sample(paths, count)


def photos_of(pattern: str) -> list[str]:
    return sorted(str(path) for path in DATA.glob(pattern))


# ------------------------------------------------------------------------------------------------- pipelines

def make_predictor(weights: str | None, threads: int) -> Predictor:
    """The shipped Predictor on `threads` onnxruntime threads; where this Predictor takes no `threads`, its
    own default (the cores this process may use), said so."""
    kwargs = {} if weights is None else {"weights": weights}
    if "threads" in inspect.signature(Predictor).parameters:
        return Predictor(threads=threads, **kwargs)
    print(f"note: this Predictor takes no threads argument; it runs on its default, not {threads}")
    return Predictor(**kwargs)


@dataclass
class Staged:
    """Predictor.predict's faces, and the ms it spent in each of StageClock.STAGES."""

    faces: list
    ms: dict[str, float]


class StageClock:
    """Times the detector's `detect` and the predictor's `classify` from inside `predict`: both are wrapped
    on these instances, so what predict does around them (reading, cropping) is what remains of its time.
    `seen`: the stages predict was seen to call (a Predictor that does not call one gets no figure for it)."""

    STAGES = ("detect", "classify")

    def __init__(self, predictor: Predictor):
        self.predictor = predictor
        self.seen: set[str] = set()
        self._spent: dict[str, float] | None = None   # None: not inside predict (the baseline classifies too)
        predictor.detector.detect = self._wrap(predictor.detector.detect, "detect")
        predictor.classify = self._wrap(predictor.classify, "classify")

    def _wrap(self, fn, stage: str):
        def wrapped(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if self._spent is not None:
                    self._spent[stage] += (time.perf_counter() - started) * 1000
                    self.seen.add(stage)
        return wrapped

    def predict(self, path) -> Staged:
        """predictor.predict(path), and the ms it spent in each stage."""
        self._spent = dict.fromkeys(self.STAGES, 0.0)
        try:
            return Staged(self.predictor.predict(path), self._spent)
        finally:
            self._spent = None


class DlibBaseline:
    """dlib's HOG frontal face detector, then our classifier on its boxes: the baseline pipeline."""

    def __init__(self, predictor: Predictor):
        import dlib

        self.detector = dlib.get_frontal_face_detector()
        self.predictor = predictor

    def boxes(self, pixels: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Faces at dlib's own scale first (80 px and up); upsampled once (40 px and up, 4x the pixels) only
        where that finds none, as one would run it to find small faces without paying for it on every photo."""
        for upsample in (0, 1):
            found = self.detector(pixels, upsample)
            if len(found):
                break
        return [(r.left(), r.top(), r.right() + 1, r.bottom() + 1) for r in found]

    def predict(self, path) -> np.ndarray:
        """P(glasses) per face: decode, detect, crop, classify, as Predictor.predict does with its detector."""
        image = load_image(path)
        boxes = self.boxes(np.asarray(image))
        predictor = self.predictor
        return predictor.classify([crop_face(image, box, predictor.input_size, predictor.crop_margin)
                                   for box in boxes])


def load_mtcnn(threads: int):
    """training/mtcnn_detector.FaceDetector() with its defaults, on `threads` torch threads. Imported only
    here: torch is a bench and training dependency, and the sections without MTCNN run without it."""
    import torch

    from training.mtcnn_detector import FaceDetector as MtcnnDetector

    torch.set_num_threads(threads)
    return MtcnnDetector()


# -------------------------------------------------------------------------------------------------- sections

def bench_e2e(predictor: Predictor, clock: StageClock, dlib_baseline: DlibBaseline, args) -> dict:
    """Section e2e: ours end to end against dlib + our classifier on 256 px CelebA-HQ photos."""
    paths = sample(photos_of(CELEBA), args.sizes.photos, random.Random(args.seed))
    turns = in_turns(paths, clock.predict, dlib_baseline.predict)
    ours, base = median(t.ours_ms for t in turns), median(t.base_ms for t in turns)
    detect = median(t.ours.ms["detect"] for t in turns)
    classify = median(t.ours.ms["classify"] for t in turns)
    decode = median(t.ours_ms - t.ours.ms["detect"] - t.ours.ms["classify"] for t in turns)
    found_ours = sum(bool(t.ours.faces) for t in turns)
    found_base = sum(len(t.base) > 0 for t in turns)
    print(f"\n== e2e: 256 px CelebA-HQ photos, end to end ({len(paths)} photos, {args.threads} threads)")
    print(f"{'pipeline':<34} {'median ms':>9} {'with a face':>12}")
    print(f"{'ours: Predictor.predict(path)':<34} {ours:9.2f} {found_ours:>6}/{len(turns):<5}")
    print(f"{'baseline: dlib HOG + classifier':<34} {base:9.2f} {found_base:>6}/{len(turns):<5}")
    ratio = ours / base
    print(f"ours / baseline: {ratio:.2f} (target at most {E2E_TARGET}): {verdict(ratio <= E2E_TARGET)}")
    print(f"ours by stage, median ms: decode {decode:.2f}, detection {detect:.2f}, classification {classify:.2f}")
    missing = set(StageClock.STAGES) - clock.seen
    if missing:
        print(f"note: predict was never seen calling {', '.join(sorted(missing))}: those figures are 0")
    n = results.number
    return {"photos": len(paths), "threads": args.threads, "ours_ms": n(ours), "baseline_ms": n(base),
            "ratio": n(ratio, 3), "target": E2E_TARGET, "ours_with_face": found_ours, "baseline_with_face": found_base,
            "stage_ms": {"decode": n(decode), "detect": n(detect), "classify": n(classify)}}


def save_large_photos(portraits, folder: Path, per_canvas: int, seed: int) -> list[tuple[str, groups.GroupPhoto]]:
    """`per_canvas` group photos for each of group_photos.CANVASES, faces LARGE_FACE_WIDTHS wide (one width
    a photo, drawn from those that fit), saved as JPEG quality 90: (path, the photo with its true boxes)."""
    rng = np.random.default_rng(seed)
    saved = []
    for canvas in groups.CANVASES:
        widths = [width for width in LARGE_FACE_WIDTHS if groups.fits(width, canvas)]
        for i in range(per_canvas):
            photo = groups.compose(groups.pick(portraits, rng), canvas, int(rng.choice(widths)), rng)
            path = folder / f"{canvas[0]}x{canvas[1]}-{i}.jpg"
            photo.image.save(path, quality=90)
            saved.append((str(path), photo))
    return saved


def canvas_label(canvas: tuple[int, int]) -> str:
    return f"{canvas[0]}x{canvas[1]} {canvas[0] * canvas[1] / 1e6:.0f} MP"


def bench_large(clock: StageClock, dlib_baseline: DlibBaseline, portraits, args) -> dict:
    """Section large: ours end to end against dlib + our classifier on 2-12 MP JPEG group photos."""
    with tempfile.TemporaryDirectory(prefix="glasses-speed-") as folder:
        saved = save_large_photos(portraits, Path(folder), args.sizes.large, args.seed)
        photo_at = dict(saved)
        turns = in_turns([path for path, _ in saved], clock.predict, dlib_baseline.predict)
    print(f"\n== large: group photos as JPEG, end to end ({args.sizes.large} a size, faces "
          f"{LARGE_FACE_WIDTHS[0]}-{LARGE_FACE_WIDTHS[-1]} px, {args.threads} threads)")
    print(f"{'canvas':<16} {'photos':>6} {'faces':>5} {'ours':>5} {'dlib':>5} {'ours ms':>9} {'detect':>8} "
          f"{'base ms':>9} {'ours/base':>9}  target at most {LARGE_TARGET}")
    rows = []
    for canvas in groups.CANVASES:
        mine = [t for t in turns if photo_at[t.item].image.size == canvas]
        faces = sum(len(photo_at[t.item].boxes) for t in mine)
        ours, base = median(t.ours_ms for t in mine), median(t.base_ms for t in mine)
        rows.append({"canvas": f"{canvas[0]}x{canvas[1]}", "megapixels": round(canvas[0] * canvas[1] / 1e6),
                     "photos": len(mine), "faces": faces, "ours_found": sum(len(t.ours.faces) for t in mine),
                     "baseline_found": sum(len(t.base) for t in mine), "ours_ms": results.number(ours, 1),
                     "ours_detect_ms": results.number(median(t.ours.ms["detect"] for t in mine), 1),
                     "baseline_ms": results.number(base, 1), "ratio": results.number(ours / base)})
        print(f"{canvas_label(canvas):<16} {len(mine):>6} {faces:>5} {sum(len(t.ours.faces) for t in mine):>5} "
              f"{sum(len(t.base) for t in mine):>5} {ours:9.1f} {median(t.ours.ms['detect'] for t in mine):8.1f} "
              f"{base:9.1f} {ours / base:9.2f}  {verdict(ours / base <= LARGE_TARGET)}")
    return {"per_canvas": args.sizes.large, "threads": args.threads, "target": LARGE_TARGET,
            "face_px": [LARGE_FACE_WIDTHS[0], LARGE_FACE_WIDTHS[-1]], "canvases": rows}


def has_face(detect, path: str) -> bool | None:
    """Whether `detect(path)` finds a face; None where the photo cannot be read."""
    try:
        return len(detect(path)) > 0
    except ImageError:
        return None


def bench_found(predictor: Predictor, mtcnn, args) -> dict:
    """Section found: photos in which each detector finds a face, per source."""
    rng = random.Random(args.seed)
    count = args.sizes.source_photos
    print(f"\n== found: photos with a face found, per source ({'all' if count <= 0 else f'at most {count} a source'})")
    print(f"{'source':<20} {'ours':>13} {'MTCNN':>13} {'ours ms':>8} {'MTCNN ms':>9}  target")
    rows = []
    detectors = {"ours": predictor.predict}
    if mtcnn is not None:
        detectors["MTCNN"] = lambda path: mtcnn.detect(load_image(path))
    for source, pattern in SOURCES.items():
        everything = photos_of(pattern)
        paths = sample(everything, count, rng)
        found = {name: {} for name in detectors}
        ms = {name: [] for name in detectors}
        for path in paths:   # one detector after the other on each photo: the counts, not the times, matter here
            for name, detect in detectors.items():
                found[name][path], took = timed(has_face, detect, path)
                ms[name].append(took)
        whole = len(paths) == len(everything)
        rows.append(print_found(source, paths, found, ms, whole))
        if source == "yalefaces":
            labelled = [path for path in paths if Path(path).suffix in (".glasses", ".noglasses")]
            rows.append(print_found("yalefaces labelled", labelled, found, None, whole))
    return {"per_source": count, "sources": rows}


def print_found(name: str, paths: list[str], found: dict[str, dict], ms: dict[str, list] | None,
                whole: bool) -> dict:
    """One row of the found table: photos with a face found by each detector of `found` ({detector: {path:
    found}}), their median ms a photo, and the targets: as many as MTCNN, and where the whole source was run,
    the recorded one."""
    counts = {detector: sum(bool(results[path]) for path in paths) for detector, results in found.items()}
    cells = [f"{counts[d]:>6}/{len(paths):<6}" if d in counts else f"{'-':>6} {'':6}" for d in ("ours", "MTCNN")]
    times = [f"{median(ms[d]):8.1f}" if ms and d in ms else f"{'':8}" for d in ("ours", "MTCNN")]
    goals = []
    if "MTCNN" in counts:
        goals.append(f"as many as MTCNN: {'yes' if counts['ours'] >= counts['MTCNN'] else 'NO'}")
    if whole and name in FOUND_TARGETS:
        need, of = FOUND_TARGETS[name]
        goals.append(f"{need}/{of}: {'yes' if counts['ours'] >= need and len(paths) == of else 'NO'}")
    unreadable = sum(found["ours"][path] is None for path in paths)
    if unreadable:
        goals.append(f"{unreadable} unreadable")
    print(f"{name:<20} {cells[0]} {cells[1]} {times[0]} {times[1]:>9}  {'; '.join(goals)}")
    return {"source": name, "photos": len(paths), "whole": whole, "ours": counts["ours"], "mtcnn": counts.get("MTCNN"),
            "ours_ms": results.number(median(ms["ours"]), 1) if ms else None,
            "mtcnn_ms": results.number(median(ms["MTCNN"]), 1) if ms and "MTCNN" in ms else None,
            "target": list(FOUND_TARGETS[name]) if name in FOUND_TARGETS else None, "unreadable": unreadable}


def portrait_paths(spec: str) -> list[str]:
    """The CelebA-HQ photos START:STOP of those sorted by their number."""
    start, _, stop = spec.partition(":")
    paths = sorted(photos_of(CELEBA), key=lambda path: int(Path(path).stem))
    return paths[int(start or 0):int(stop) if stop else None]


def build_portraits(mtcnn, args):
    """Portraits for the composed photos: the first --portraits of --portrait-range in which MTCNN finds one face."""
    paths = portrait_paths(args.portrait_range)[:args.sizes.portraits]
    portraits, left_out = groups.load_portraits(paths, mtcnn)
    if len(portraits) < groups.MAX_FACES:
        sys.exit(f"only {len(portraits)} portraits with one face in {args.portrait_range}; need {groups.MAX_FACES}")
    print(f"portraits: {len(portraits)} of CelebA-HQ photos {args.portrait_range} (first {len(paths)}), "
          f"{left_out} left out where MTCNN found no face or several")
    return portraits


def bench_groups(predictor: Predictor, mtcnn, portraits, args) -> dict:
    """Section groups: recall by face width, detection time and false detections, ours against MTCNN."""
    photos = groups.group_photos(portraits, args.sizes.group_photos, args.group_seed)
    turns = in_turns(photos, lambda photo: [face.box for face in predictor.detector.detect(photo.image)],
                     lambda photo: [face.box for face in mtcnn.detect(photo.image)])
    print(f"\n== groups: recall by face width ({len(photos)} photos, {args.sizes.group_photos} per width and "
          f"canvas, seed {args.group_seed}, {args.threads} threads)")
    print(f"{'face px':>7} {'faces':>6} {'ours':>7} {'MTCNN':>7}  target: ours at least MTCNN's")
    by_width, by_canvas = [], []
    for width in groups.FACE_WIDTHS:
        mine = [t for t in turns if t.item.face_width == width]
        faces = sum(len(t.item.boxes) for t in mine)
        if not faces:
            continue
        ours = sum(groups.matched(t.item.boxes, t.ours) for t in mine) / faces
        theirs = sum(groups.matched(t.item.boxes, t.base) for t in mine) / faces
        print(f"{width:>7} {faces:>6} {ours:7.1%} {theirs:7.1%}  {'yes' if ours >= theirs else 'NO'}")
        by_width.append({"face_px": width, "faces": faces, "ours_recall": round(ours, 4),
                         "mtcnn_recall": round(theirs, 4)})
    print(f"{'canvas':<16} {'photos':>6} {'ours ms':>9} {'MTCNN ms':>9}")
    for canvas in groups.CANVASES:
        mine = [t for t in turns if t.item.image.size == canvas]
        print(f"{canvas_label(canvas):<16} {len(mine):>6} {median(t.ours_ms for t in mine):9.1f} "
              f"{median(t.base_ms for t in mine):9.1f}")
        by_canvas.append({"canvas": f"{canvas[0]}x{canvas[1]}", "megapixels": round(canvas[0] * canvas[1] / 1e6),
                          "photos": len(mine), "ours_ms": results.number(median(t.ours_ms for t in mine), 1),
                          "mtcnn_ms": results.number(median(t.base_ms for t in mine), 1)})
    ours, theirs = median(t.ours_ms for t in turns), median(t.base_ms for t in turns)
    print(f"{'all':<16} {len(turns):>6} {ours:9.1f} {theirs:9.1f}  target: ours no more: "
          f"{'yes' if ours <= theirs else 'NO'}")
    false_ours = sum(groups.false_detections(t.item.boxes, t.ours) for t in turns)
    false_mtcnn = sum(groups.false_detections(t.item.boxes, t.base) for t in turns)
    print(f"false detections (found boxes matching no true face): ours {false_ours}, MTCNN {false_mtcnn}")
    return {"photos": len(photos), "per_width_and_canvas": args.sizes.group_photos, "seed": args.group_seed,
            "portraits": len(portraits), "threads": args.threads, "by_width": by_width, "by_canvas": by_canvas,
            "ours_ms": results.number(ours, 1), "mtcnn_ms": results.number(theirs, 1),
            "false_detections": {"ours": false_ours, "mtcnn": false_mtcnn}}


def bench_empty(predictor: Predictor, args) -> dict:
    """Section empty: faces found on photos with no person or animal in them."""
    samples, skipped = no_people.skimage_samples()
    print("\n== empty: faces found on photos without people (target: 0)")
    if skipped:
        print("skipped: " + ", ".join(f"{name} ({why})" for name, why in skipped.items()))
    total = count = 0
    per_image = []
    for name, image in [*samples.items(), *no_people.synthetic(args.seed)]:
        faces = predictor.predict(image)
        per_image.append((f"skimage {name} {image.width}x{image.height}" if name in samples else f"synthetic {name}",
                          len(faces)))
        total += len(faces)
        count += 1
    width = max(len(name) for name, _ in per_image)
    for name, faces in per_image:
        print(f"{name:<{width}} {faces:>3}")
    print(f"total: {total} faces on {count} images: {verdict(total == 0)}")
    return {"images": count, "skimage": len(samples), "synthetic": count - len(samples), "faces": total,
            "with_faces": {name: faces for name, faces in per_image if faces}, "skipped": skipped}


def run(name: str, fn, *args) -> dict:
    """One section's figures, and how long it took: what to scale when choosing sizes for a longer run."""
    started = time.perf_counter()
    figures = fn(*args)
    seconds = time.perf_counter() - started
    print(f"({name} took {seconds:.0f} s)")
    return results.record(f"speed.{name}", {**figures, "seconds": round(seconds)})


def write_sections(path: Path, sections: dict[str, dict]) -> None:
    """The sections run now into the JSON at `path`, beside the sections of earlier runs that this one left out."""
    kept = results.read(path) or {}
    kept = kept.get("sections", {}) if kept.get("bench") == "speed" else {}
    results.write(path, {"bench": "speed", "sections": {**kept, **sections}})


def main() -> int:
    args = parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs the real photos in {DATA}")
    chosen = set(args.only)
    predictor = make_predictor(args.weights, args.threads)
    clock = StageClock(predictor)
    print(f"threads {args.threads}, seed {args.seed}, sizes {args.sizes}, sections {', '.join(args.only)}")
    dlib_baseline = DlibBaseline(predictor) if chosen & {"e2e", "large"} else None
    sections = {}
    if "e2e" in chosen:   # before torch is imported: its threads play no part in these timings
        sections["e2e"] = run("e2e", bench_e2e, predictor, clock, dlib_baseline, args)
    needs_mtcnn = chosen & {"large", "groups"} or ("found" in chosen and not args.skip_mtcnn_found)
    mtcnn = load_mtcnn(args.threads) if needs_mtcnn else None
    portraits = build_portraits(mtcnn, args) if chosen & {"large", "groups"} else None
    if "large" in chosen:
        sections["large"] = run("large", bench_large, clock, dlib_baseline, portraits, args)
    if "found" in chosen:
        sections["found"] = run("found", bench_found, predictor, None if args.skip_mtcnn_found else mtcnn, args)
    if "groups" in chosen:
        sections["groups"] = run("groups", bench_groups, predictor, mtcnn, portraits, args)
    if "empty" in chosen:
        sections["empty"] = run("empty", bench_empty, predictor, args)
    write_sections(args.json, sections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
