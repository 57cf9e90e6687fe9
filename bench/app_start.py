"""Start-up time of `python app.py`, from launching the process to the first 200 of GET /api/health, against
the time `python -c "import gradio"` takes, measured in turns in the same run.

    python bench/app_start.py [--runs 3] [--json bench/results/app_start.json]

Importing Gradio is the floor any Gradio app starts from; the target is the app healthy within 1.5 times it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import results  # noqa: E402
from tests.app_server import running_app  # noqa: E402

TARGET_RATIO = 1.5


def import_gradio_seconds() -> float:
    """A fresh interpreter that imports Gradio and exits: what every start pays before the app's own code."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    results.add_json_flag(parser, "app_start")
    args = parser.parse_args()
    app_times, gradio_times, loads = [], [], []
    for run in range(args.runs):
        gradio_times.append(import_gradio_seconds())
        with running_app() as app:
            app_times.append(app.startup_seconds)
        loads.append(os.getloadavg()[0])
        print(f"run {run + 1}: app healthy {app_times[-1]:.2f} s, import gradio {gradio_times[-1]:.2f} s "
              f"(load average {loads[-1]:.1f})")
    app, gradio = statistics.median(app_times), statistics.median(gradio_times)
    ratio = app / gradio
    print(f"median: app healthy {app:.2f} s, import gradio {gradio:.2f} s: {ratio:.2f}x; "
          f"target at most {TARGET_RATIO}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    results.write(args.json, results.record("app_start", {
        "app_s": results.number(app), "gradio_s": results.number(gradio), "ratio": results.number(ratio),
        "target_ratio": TARGET_RATIO,
        "runs": [{"app_s": results.number(a), "gradio_s": results.number(g), "load_average": results.number(load, 1)}
                 for a, g, load in zip(app_times, gradio_times, loads)]}))


if __name__ == "__main__":
    main()
