"""Seconds and peak memory that one very large image costs, through glasses.Predictor and through the CLI.

    python bench/huge_image.py [--side 9000] [--only png-L,jpeg-face] [--threads 2] [--repeat 3] [--skip-cli]
                               [--route path|bytes|loaded] [--code DIR]

Writes, into a temporary folder, side x side images that are cheap to send and dear to decode: an all-black
PNG in mode L and in mode 1 (a few KB), an all-black JPEG, a JPEG of a real face (a CelebA-HQ photo from
../shared/data scaled up to fill the frame; a generated image with no face when that is absent), and a
12-megapixel (4000x3000) JPEG of a face, the size of a phone photo, for comparison. On request (--only):
png-RGBA, a fully transparent PNG (decoded, 4 bytes a pixel), and jpeg-crowd, the frame tiled with 256-pixel
CelebA-HQ photos (1225 faces for 9000: what many faces cost, whatever the pixel count).

--code DIR runs the glasses package of another checkout (e.g. `git worktree add /tmp/old HEAD~1`) with this
script, for before/after figures on the same machine under the same load.

Each image is run in a fresh process, so that peak RSS is the image's and not an earlier one's:
- predictor: `Predictor().predict(path)` with the shipped weights, after one warm-up predict on a small photo,
  --repeat times; printed: the fastest call's wall seconds and the least CPU seconds (all threads) of a call,
  the process's peak RSS, and its RSS before the calls (model loaded), so that peak minus before is what the
  image cost; --route says whether it is handed the path, the bytes, or the photo loaded whole first;
- cli: `python -m glasses predict -q FILE` under /usr/bin/time -v: wall seconds (model loading included) and
  peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
FACE = DATA / "celeba_hq" / "images" / "100.jpg"

_CHILD = r"""
import json, resource, sys, time
from PIL import Image
import glasses
try:
    predictor = glasses.Predictor(threads=int(sys.argv[3]))
except TypeError:   # a checkout given by --code whose Predictor takes no threads: it runs on torch's
    import torch
    torch.set_num_threads(int(sys.argv[3]))
    predictor = glasses.Predictor()
predictor.predict(Image.new("RGB", (256, 256), (120, 90, 60)))   # warm-up: first-call costs are not the image's
def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
before = rss_mb()
route = sys.argv[5]
runs = []
for _ in range(int(sys.argv[4])):
    started, cpu = time.perf_counter(), time.process_time()
    if route == "path":
        faces = predictor.predict(sys.argv[1])
    elif route == "bytes":
        faces = predictor.predict(open(sys.argv[1], "rb").read())
    else:   # "loaded": the photo loaded whole first, as the app's Classify and REST route and the CLI's --overlay do
        faces = predictor.predict(glasses.load_image(sys.argv[1], predictor.max_pixels))
    runs.append((time.perf_counter() - started, time.process_time() - cpu))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump({"seconds": min(r[0] for r in runs), "cpu": min(r[1] for r in runs), "peak_mb": peak, "before_mb": before,
           "faces": [f.to_dict() for f in faces]}, open(sys.argv[2], "w"))
"""


def face_photo(size: tuple[int, int]) -> Image.Image:
    if FACE.is_file():
        with Image.open(FACE) as face:
            return face.convert("RGB").resize(size, Image.BICUBIC)
    return Image.radial_gradient("L").resize(size).convert("RGB")


DEFAULT_IMAGES = ("png-L", "png-1", "jpeg-black", "jpeg-face", "jpeg-phone")
ON_REQUEST = ("png-RGBA", "jpeg-crowd")


def crowd(side: int) -> Image.Image:
    tiles = [Image.open(p).convert("RGB") for p in sorted(FACE.parent.glob("*.jpg"))[:64]]
    if not tiles:
        raise SystemExit(f"jpeg-crowd needs the CelebA-HQ photos in {FACE.parent}")
    image = Image.new("RGB", (side, side))
    per_row = -(-side // 256)
    for i in range(per_row * per_row):
        image.paste(tiles[i % len(tiles)], ((i % per_row) * 256, (i // per_row) * 256))
    return image


def make_image(folder: Path, name: str, side: int) -> Path:
    path = folder / f"{name}.{name.split('-')[0].replace('jpeg', 'jpg')}"
    if name in ("png-L", "png-1", "png-RGBA"):
        Image.new(name[4:], (side, side), 0).save(path)
    elif name == "jpeg-black":
        Image.new("RGB", (side, side), 0).save(path, quality=90)
    elif name == "jpeg-face":
        face_photo((side, side)).save(path, quality=90)
    elif name == "jpeg-phone":   # a phone photo's shape: the face photo centred on a 4000x3000 gray frame
        phone = Image.new("RGB", (4000, 3000), (110, 110, 110))
        phone.paste(face_photo((3000, 3000)), (500, 0))
        phone.save(path, quality=90)
    elif name == "jpeg-crowd":
        crowd(side).save(path, quality=90)
    else:
        raise SystemExit(f"unknown image {name}; known: {', '.join(DEFAULT_IMAGES + ON_REQUEST)}")
    return path


def run_predictor(path: Path, threads: int, code: Path, repeat: int, route: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-c", _CHILD, str(path), out.name, str(threads), str(repeat), route],
                       cwd=code, check=True)
        return json.load(open(out.name))


def run_cli(path: Path, threads: int, code: Path) -> dict:
    done = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "glasses", "predict", "-q", "--format",
                           "csv", "--threads", str(threads), str(path)], cwd=code, capture_output=True, text=True)
    report = done.stderr
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", report)
    hours, minutes, seconds = (float(g or 0) for g in wall.groups())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", report).group(1))
    return {"seconds": hours * 3600 + minutes * 60 + seconds, "peak_mb": rss / 1024, "rc": done.returncode,
            "rows": done.stdout.strip().splitlines()[1:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=9000)
    parser.add_argument("--only", default="", help="comma-separated image names (default: the five always made)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--repeat", type=int, default=3,
                        help="predict calls per image; the fastest is printed (the CPU is shared: wall times vary)")
    parser.add_argument("--route", choices=("path", "bytes", "loaded"), default="path",
                        help="what the Predictor is handed: the file's path, its bytes (as an upload arrives), or "
                             "the photo loaded whole by glasses.load_image (as the app and --overlay do)")
    parser.add_argument("--code", type=Path, default=REPO,
                        help="checkout whose glasses package runs (default: this one); its weights/ are used")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in [n for n in args.only.split(",") if n] or DEFAULT_IMAGES:
            path = make_image(Path(tmp), name, args.side)
            with Image.open(path) as image:
                shape = f"{image.width}x{image.height} {image.mode}"
            print(f"{name:<11} {shape:<14} {os.path.getsize(path) / 1024:>8.1f} KB")
            result = run_predictor(path, args.threads, args.code, args.repeat, args.route)
            print(f"  predictor {result['seconds']:6.2f} s  cpu {result['cpu']:6.2f} s  peak {result['peak_mb']:6.0f} MB  "
                  f"(before the call {result['before_mb']:.0f} MB)  faces {result['faces']}", flush=True)
            if not args.skip_cli:
                result = run_cli(path, args.threads, args.code)
                print(f"  cli       {result['seconds']:6.2f} s  peak {result['peak_mb']:6.0f} MB  (wall, model "
                      f"load included)  exit {result['rc']}  {result['rows']}", flush=True)


if __name__ == "__main__":
    main()
