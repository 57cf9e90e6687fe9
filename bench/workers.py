"""Throughput of `glasses predict` with one worker, two, and the Ray engine, on the same CelebA-HQ photos.

    python bench/workers.py                   # 400 photos, 3 timed runs of each engine: about 2 minutes on 2 cores
    python bench/workers.py --photos 40 --runs 1 --json /tmp/workers.json     # a quick check

Each run is the command line as a user types it (`python -m glasses predict PHOTOS... --format csv --output
FILE --quiet`), in a fresh process, timed by the wall clock from start to exit: start-up (imports, models, the
workers' or Ray's start) counts, as it does for a user. Each engine runs once untimed first (the photos in the
page cache, Ray's first start), then the engines take turns, so that drift in the machine's speed falls on all
alike. The rows of every run must be byte for byte those of `--workers 1`; the bench fails otherwise.

Beside them, in the same turns, the bound any two workers are held to: two independent `--workers 1 --threads 1`
processes at once, each on half of the photos ("halves"), whose slower one ends the run. No way of sharing the
photos between two processes, each starting as a user's command does, ends sooner; their rows, joined, must be
`--workers 1`'s too.

Printed: median seconds and photos per second of each engine, and the ratio of `--workers 2`'s wall time to
`--workers 1`'s (target: at most 0.75 on a 2-core machine), and the halves' ratio beside it. The figures also go to --json (default
bench/results/workers.json), which bench/tables.py renders into docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench import results  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "celeba_hq" / "images"
TARGET = 0.75
ENGINES = {"workers 1": ["--workers", "1"], "workers 2": ["--workers", "2"], "ray": ["--engine", "ray"]}
HALVES = "halves (bound)"   # two independent one-thread processes, half the photos each, at once


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=400, help="CelebA-HQ photos, the first by file name")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each engine (default %(default)s)")
    parser.add_argument("--data", type=Path, default=DATA, help="the photos' folder (default: %(default)s)")
    parser.add_argument("--skip-ray", action="store_true", help="leave the Ray engine out")
    results.add_json_flag(parser, "workers")
    return parser.parse_args()


def command(photos: list[str], flags: list[str], out: Path) -> list[str]:
    return [sys.executable, "-m", "glasses", "predict", *photos, "--format", "csv", "--output", str(out), "--quiet",
            *flags]


def timed_run(photos: list[str], flags: list[str], out: Path) -> float:
    """Seconds `glasses predict` takes over `photos` with `flags`; HALVES: two processes, half the photos each,
    at once (`out` then holds their rows joined)."""
    halves = flags == [HALVES]
    parts = [photos[:len(photos) // 2], photos[len(photos) // 2:]] if halves else [photos]
    outs = [out.with_suffix(f".{i}.csv") for i in range(len(parts))] if halves else [out]
    argvs = [command(part, ["--workers", "1", "--threads", "1"] if halves else flags, part_out)
             for part, part_out in zip(parts, outs)]
    start = time.perf_counter()
    runs = [subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for argv in argvs]
    errors = [run.communicate()[1] for run in runs]
    seconds = time.perf_counter() - start
    for run, err in zip(runs, errors):
        if run.returncode not in (0, 1):
            raise SystemExit(f"bench/workers.py: {' '.join(flags)} failed ({run.returncode}):\n{err[-2000:]}")
    if halves:   # the second file's header dropped: the rows of one run over all the photos
        first, second = (path.read_bytes() for path in outs)
        out.write_bytes(first + second.split(b"\n", 1)[1])
    return seconds


def main() -> int:
    args = parse_args()
    photos = sorted(str(p) for p in args.data.glob("*.jpg"))[:args.photos]
    if len(photos) < args.photos:
        raise SystemExit(f"bench/workers.py: {args.data} holds {len(photos)} photos, fewer than --photos {args.photos}")
    engines = dict(ENGINES) | {HALVES: [HALVES]}
    if args.skip_ray or importlib.util.find_spec("ray") is None:
        print("the Ray engine is left out (--skip-ray, or Ray is not installed)", file=sys.stderr)
        engines.pop("ray")
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    with tempfile.TemporaryDirectory() as folder:
        outputs = {name: Path(folder) / f"{name.replace(' ', '_')}.csv" for name in engines}
        for name, flags in engines.items():   # untimed: page cache, first imports, Ray's first start
            timed_run(photos, flags, outputs[name])
        for turn in range(args.runs):
            order = list(engines) if turn % 2 == 0 else list(reversed(engines))
            for name in order:
                seconds[name].append(timed_run(photos, engines[name], outputs[name]))
                print(f"run {turn + 1}: {name}: {seconds[name][-1]:.2f} s", file=sys.stderr)
        reference = outputs["workers 1"].read_bytes()
        same = {name: outputs[name].read_bytes() == reference for name in engines}
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    ratio = medians["workers 2"] / medians["workers 1"]
    bound = medians[HALVES] / medians["workers 1"]
    print(f"{len(photos)} CelebA-HQ photos, {os.cpu_count()} CPUs, median of {args.runs} runs each:")
    for name in engines:
        print(f"  {name:15s} {medians[name]:7.2f} s  {len(photos) / medians[name]:7.1f} photos/s  "
              f"rows {'identical' if same[name] else 'DIFFER'}")
    print(f"workers 2 / workers 1: {ratio:.3f} (target at most {TARGET}): {'met' if ratio <= TARGET else 'NOT met'}; "
          f"halves / workers 1, the bound: {bound:.3f}")
    figures = {"photos": len(photos), "runs": args.runs, "target": TARGET, "ratio": results.number(ratio, 3),
               "bound": results.number(bound, 3),
               "engines": [{"engine": name, "seconds": results.number(medians[name]),
                            "photos_per_s": results.number(len(photos) / medians[name], 1),
                            "runs_s": [results.number(s) for s in seconds[name]], "same_rows": same[name]}
                           for name in engines]}
    results.write(args.json, results.record("workers", figures))
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
