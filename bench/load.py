"""Load test of the REST route: N concurrent POST /api/classify on loopback, latency percentiles and errors.

    python bench/load.py [--requests 50] [--url http://127.0.0.1:7860]

Without --url it starts `python app.py` on a free loopback port and stops it afterwards. The photo is a real
one from ../shared/data when present (Yale subject01, one face), else a generated image with no face. Every
request is sent at once (a barrier releases them together); the server serves them in turn.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.app_server import running_app  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_PHOTO = DATA / "yalefaces" / "subject01.glasses"


def photo() -> tuple[str, bytes]:
    if REAL_PHOTO.is_file():
        return "subject01.gif", REAL_PHOTO.read_bytes()
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 140, 160)).save(out, "JPEG")
    return "generated.jpg (no face)", out.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run(url: str, requests: int, name: str, data: bytes) -> tuple[list[float], list[str], float]:
    barrier = threading.Barrier(requests)

    def one(_: int) -> tuple[float, str | None]:
        with httpx.Client(timeout=600) as client:
            barrier.wait()
            started = time.perf_counter()
            try:
                response = client.post(f"{url}/api/classify", files={"image": (name, data)})
                error = None if response.status_code == 200 and "faces" in response.json() \
                    else f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as err:
                error = f"{type(err).__name__}: {err}"
            return time.perf_counter() - started, error

    started = time.perf_counter()
    with ThreadPoolExecutor(requests) as pool:
        results = list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    return [seconds for seconds, _ in results], [error for _, error in results if error], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--url", help="a running app (default: start one on a free loopback port)")
    args = parser.parse_args()
    name, data = photo()
    with (contextlib.nullcontext(args.url) if args.url else running_app()) as app:
        url = args.url or app.url
        latencies, errors, wall = run(url, args.requests, name, data)
    ms = [s * 1000 for s in latencies]
    print(f"{args.requests} concurrent POST /api/classify of {name} ({len(data):,} bytes) to {url}")
    print(f"latency ms: p50 {percentile(ms, 50):.0f}  p90 {percentile(ms, 90):.0f}  p99 {percentile(ms, 99):.0f}  "
          f"max {max(ms):.0f}  mean {statistics.mean(ms):.0f}")
    print(f"wall {wall:.1f} s, {args.requests / wall:.1f} requests/s; errors: {len(errors)}")
    for error in sorted(set(errors)):
        print(f"  {errors.count(error)} x {error}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
