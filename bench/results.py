"""The benches' figures as JSON, for bench/tables.py to render docs/benchmarks.md's tables from.

Each bench that the docs quote takes `--json PATH` (default `bench/results/<bench>.json`) and writes there

    {"bench": "app_start", "command": "python bench/app_start.py --runs 3", "date": "2026-12-01", "cpus": 2,
     ...the figures...}

`command` is the command line that ran, `date` the UTC day it ended, `cpus` the cores the machine had.
"""
from __future__ import annotations

import json
import math
import os
import shlex
import sys
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def default_path(bench: str) -> Path:
    return RESULTS / f"{bench}.json"


def add_json_flag(parser, bench: str) -> None:
    """The `--json PATH` flag every quoted bench takes."""
    parser.add_argument("--json", type=Path, default=default_path(bench), metavar="PATH",
                        help=f"write the figures there as JSON, for bench/tables.py (default: "
                             f"bench/results/{bench}.json)")


def command(argv: list[str] | None = None) -> str:
    """The command line that ran, as one would type it from the repository root: `python bench/NAME.py ...`."""
    argv = sys.argv if argv is None else argv
    return shlex.join(["python", f"bench/{Path(argv[0]).name}", *argv[1:]])


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def record(bench: str, figures: dict, argv: list[str] | None = None) -> dict:
    """`figures` with what names their origin: the bench, the command, the date and the machine's cores."""
    return {"bench": bench, "command": command(argv), "date": today(), "cpus": os.cpu_count(), **figures}


def number(value, digits: int = 2):
    """`value` rounded for JSON; None for NaN (a median of nothing), which JSON cannot hold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def write(path: Path, data: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    print(f"figures written to {path}", file=sys.stderr)


def read(path: Path) -> dict | None:
    """The JSON at `path`, or None where there is none (or it is not a JSON object)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
