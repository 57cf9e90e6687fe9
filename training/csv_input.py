"""Reading a CSV that a person supplied (a manifest, a decisions file), and refusing it with every bad row
listed at once, so one round of fixes is enough and nothing is half-read."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Sequence

MAX_LISTED = 20  # problems shown in one error; the rest are counted
TOO_MANY_VALUES = "the row has more values than the header has columns"  # a value would be lost unseen


def read_rows(path: Path, needed: Sequence[str], error: type[Exception],
              hint: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the (line number, row) pairs of the CSV at `path`; raises `error` naming the file when
    it is missing, unreadable, names a column twice (which value counts would be a guess) or lacks a `needed`
    column (`hint` says what the columns should be). A UTF-8 byte order mark (Excel's "CSV UTF-8") is skipped."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            numbered = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise error(f"{path}: cannot be read as a CSV ({err})") from None
    repeated = [repr(c) for c, count in Counter(columns).items() if count > 1]
    if repeated:
        raise error(f"{path}: the header names the column(s) {', '.join(repeated)} more than once")
    missing = [c for c in needed if c not in columns]
    if missing:
        raise error(f"{path}: lacks the column(s) {', '.join(missing)} ({hint})")
    return list(columns), numbered


def refuse(path: Path, problems: list[str], error: type[Exception], consequence: str) -> None:
    """Raise `error` listing `problems` (the first MAX_LISTED, then a count), if there are any."""
    if problems:
        listed = "\n  ".join(problems[:MAX_LISTED])
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise error(f"{path}: {len(problems)} row(s) {consequence}:\n  {listed}{more}")
