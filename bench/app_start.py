"""Start-up time of `python app.py`: from launching the process to the first 200 of GET /api/health.

    python bench/app_start.py [--runs 3]

The issue's target is under 15 s on this project's 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.app_server import running_app  # noqa: E402

TARGET_SECONDS = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for run in range(args.runs):
        with running_app() as app:
            times.append(app.startup_seconds)
        print(f"run {run + 1}: {app.startup_seconds:.1f} s (load average {os.getloadavg()[0]:.1f})")
    median = statistics.median(times)
    print(f"median {median:.1f} s, max {max(times):.1f} s; target < {TARGET_SECONDS} s: "
          f"{'met' if median < TARGET_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
