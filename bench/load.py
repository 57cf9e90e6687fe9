"""Load test of the REST route: bursts of N concurrent POST /api/classify; latency, errors and server memory.

    python bench/load.py [--requests 50] [--bursts 3] [--photo FILE] [--url http://127.0.0.1:7860 [--pid PID]]
                         [--json bench/results/load.json]

Without --url it starts `python app.py` on a free loopback port and stops it afterwards; the app inherits this
process's environment (e.g. MALLOC_ARENA_MAX). The photo is --photo, else a real one from ../shared/data when
present (Yale subject01, one face), else a generated image with no face. Every request of a burst is sent at
once (a barrier releases them together); the server serves them in turn. The memory figures, before the first
burst and after each, are the server process's VmRSS (now) and VmHWM (its peak so far) from /proc, read once
the burst is answered and the server has had a moment to settle; a server that keeps its memory flat ends
every burst near where the first one left it.
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
from bench import results  # noqa: E402
from tests.app_server import running_app  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_PHOTO = DATA / "yalefaces" / "subject01.glasses"


def photo(path: Path | None = None) -> tuple[str, bytes]:
    if path:
        return path.name, path.read_bytes()
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


# After a burst, how long the server is left alone before its memory is read: long enough for the last
# responses' buffers to be freed, short enough not to wait for anything slower.
SETTLE_SECONDS = 2.0


def memory_mb(pid: int | None) -> dict:
    """The process's resident memory now and at its peak so far, in MB: {"rss_mb": 912, "peak_mb": 1020};
    None for both where the process is not known."""
    if pid is None:
        return {"rss_mb": None, "peak_mb": None}
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: round(int(fields[key].split()[0]) / 1024)
            for name, key in (("rss_mb", "VmRSS"), ("peak_mb", "VmHWM"))}


def memory(mb: dict) -> str:
    """memory_mb's figures as text, e.g. 'RSS 912 MB (peak 1,020 MB)'."""
    if mb["rss_mb"] is None:
        return "RSS unknown (give --pid)"
    return f"RSS {mb['rss_mb']:,.0f} MB (peak {mb['peak_mb']:,.0f} MB)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="concurrent requests per burst (default 50)")
    parser.add_argument("--bursts", type=int, default=3, help="bursts, one after the other (default 3)")
    parser.add_argument("--photo", type=Path, help="the file to send (default: Yale subject01, else a generated image)")
    parser.add_argument("--url", help="a running app (default: start one on a free loopback port)")
    parser.add_argument("--pid", type=int, help="with --url: the app's process, to read its memory")
    results.add_json_flag(parser, "load")
    args = parser.parse_args()
    name, data = photo(args.photo)
    failed = False
    bursts = []
    with (contextlib.nullcontext() if args.url else running_app()) as app:
        url, pid = (args.url, args.pid) if args.url else (app.url, app.pid)
        print(f"{args.bursts} bursts of {args.requests} concurrent POST /api/classify of {name} "
              f"({len(data):,} bytes) to {url}")
        before = memory_mb(pid)
        print(f"before:  {memory(before)}")
        for burst in range(1, args.bursts + 1):
            latencies, errors, wall = run(url, args.requests, name, data)
            time.sleep(SETTLE_SECONDS)
            ms = [s * 1000 for s in latencies]
            after = memory_mb(pid)
            bursts.append({**after, **{f"p{q}_ms": round(percentile(ms, q)) for q in (50, 90, 99)},
                           "max_ms": round(max(ms)), "mean_ms": round(statistics.mean(ms)),
                           "wall_s": results.number(wall, 1), "requests_per_s": results.number(args.requests / wall, 1),
                           "errors": len(errors)})
            print(f"burst {burst}: {memory(after)}; latency ms p50 {percentile(ms, 50):.0f}  "
                  f"p90 {percentile(ms, 90):.0f}  p99 {percentile(ms, 99):.0f}  max {max(ms):.0f}  "
                  f"mean {statistics.mean(ms):.0f}; wall {wall:.1f} s, {args.requests / wall:.1f} requests/s; "
                  f"errors: {len(errors)}")
            for error in sorted(set(errors)):
                print(f"  {errors.count(error)} x {error}")
            failed = failed or bool(errors)
    results.write(args.json, results.record("load", {
        "photo": name, "bytes": len(data), "requests": args.requests, "before": before, "bursts": bursts}))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
