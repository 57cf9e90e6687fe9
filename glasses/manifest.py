"""The CSV formats that training, the relabel workflow and the app share, and reading them safely: the manifest
(`path,label,source,group,split[,pred_prob][,attribute]`) and the reviewers' decisions (`path,label,reviewer`). Here,
beside the library every layer depends on, so that none of them imports another for a file format.

A CSV a person supplied is refused with every bad row listed at once, so one round of fixes is enough and
nothing is half-read.

Manifest paths are relative to the data folder (`--data`, default ../shared/data), exactly as training reads
them, so one manifest serves training and review; the folder the CSV itself sits in plays no part. A path
that leads out of the data folder (absolute, `..`, or a symlink pointing elsewhere) is refused: the app shows
these files to a browser. Values other than `label` are kept as the text they were, so an export changes
nothing but what the reviewers decided.
"""
from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from glasses.errors import GlassesError
from glasses.labels import LabelNameError, check_attribute

MANIFEST_COLUMNS = ("path", "label", "source", "group", "split")
DECISION_COLUMNS = ("path", "label", "reviewer")   # `python -m relabel decisions` writes them, `import` reads them
DEFAULT_DATA = Path("../shared/data")
LABELS = {"0": 0, "1": 1}
SPLITS = {"train", "val", "test"}
MAX_LISTED = 20  # problems shown in one error; the rest are counted
TOO_MANY_VALUES = "the row has more values than the header has columns"  # a value would be lost unseen


class CsvError(GlassesError, ValueError):
    """A CSV a person supplied that cannot be used; `path` names it, `reason` says why (every offending row)."""


class ManifestError(CsvError):
    """A manifest that cannot be used for review or training; the message names the file and each offending row."""


@dataclass
class Manifest:
    path: Path
    data_root: Path
    rows: list[dict]                 # in file order; `label` an int, every other value the text it was
    pred_prob: list[float] | None    # per row, NaN where empty (no face); None when the column is absent
    # The binary attribute `label` is of (a CelebA column, glasses.labels), where an `attribute` column names
    # it; None where there is none (the default: glasses).
    attribute: str | None = None

    def image_path(self, row: dict) -> Path:
        return self.data_root / row["path"]

    @property
    def labels(self) -> list[int]:
        return [row["label"] for row in self.rows]


def read_rows(path: Path, needed: Sequence[str], error: type[CsvError] = CsvError,
              hint: str = "") -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and the (line number, row) pairs of the CSV at `path`; raises `error` naming the file when
    it is missing, unreadable, names a column twice (which value counts would be a guess) or lacks a `needed`
    column (`hint` says what the columns should be). A UTF-8 byte order mark (Excel's "CSV UTF-8") is skipped."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames or []
            numbered = [(reader.line_num, row) for row in reader]
    except FileNotFoundError:
        raise error("file not found", path) from None
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise error(f"cannot be read as a CSV ({err})", path) from None
    repeated = [repr(c) for c, count in Counter(columns).items() if count > 1]
    if repeated:
        raise error(f"the header names the column(s) {', '.join(repeated)} more than once", path)
    missing = [c for c in needed if c not in columns]
    if missing:
        raise error(f"lacks the column(s) {', '.join(missing)}" + (f" ({hint})" if hint else ""), path)
    return list(columns), numbered


def refuse(path: Path, problems: list[str], error: type[CsvError], consequence: str) -> None:
    """Raise `error` listing `problems` (the first MAX_LISTED, then a count), if there are any."""
    if problems:
        listed = "\n  ".join(problems[:MAX_LISTED])
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise error(f"{len(problems)} row(s) {consequence}:\n  {listed}{more}", path)


def read_decision_rows(path: Path, error: type[CsvError] = CsvError) -> list[tuple[int, dict]]:
    """The (line number, row) pairs of a decisions CSV, its columns checked, its values not (the reader knows
    what they must match); raises `error` naming the file."""
    _, numbered = read_rows(path, DECISION_COLUMNS, error,
                            f"a decisions file has {','.join(DECISION_COLUMNS)}: python -m relabel decisions "
                            f"writes one")
    return numbered


def load_manifest(path: Path, data_root: Path = DEFAULT_DATA) -> Manifest:
    """The manifest at `path`, its image paths checked against `data_root`; raises ManifestError."""
    path, data_root = Path(path), Path(data_root)
    if not data_root.is_dir():
        raise ManifestError(f"the data folder {data_root} does not exist", path)
    columns, numbered = read_rows(path, MANIFEST_COLUMNS, ManifestError,
                                  f"a manifest has {','.join(MANIFEST_COLUMNS)}[,pred_prob]")
    if not numbered:
        raise ManifestError("has no rows", path)
    root = data_root.resolve()
    problems, first_line, pred_prob = [], {}, []
    for line, row in numbered:
        problem = _row_problem(row, root, data_root) or _duplicate(root / row["path"], line, first_line)
        probability = _probability(row.get("pred_prob")) if "pred_prob" in columns else math.nan
        if problem is None and probability is None:
            problem = f"pred_prob {row['pred_prob']!r} is not a probability between 0 and 1"
        if problem:
            problems.append(f"line {line}: {row['path'] or '(empty path)'}: {problem}")
            continue
        row["label"] = LABELS[row["label"]]
        pred_prob.append(probability)
    refuse(path, problems, ManifestError, "cannot be used (nothing was read from it)")
    rows = [row for _, row in numbered]
    return Manifest(path, data_root, rows, pred_prob if "pred_prob" in columns else None,
                    _attribute(path, rows) if "attribute" in columns else None)


def _attribute(path: Path, rows: list[dict]) -> str | None:
    """The one attribute an `attribute` column names (empty values aside); raises ManifestError for several:
    one manifest's labels are of one attribute."""
    named = sorted({row["attribute"] for row in rows if row["attribute"]})
    if len(named) > 1:
        raise ManifestError(f"its attribute column names {len(named)} attributes "
                            f"({', '.join(map(repr, named[:5]))}); the labels of one manifest are of one attribute",
                            path)
    if named:
        try:
            check_attribute(named[0])
        except LabelNameError as err:
            raise ManifestError(f"its attribute column: {err}", path) from None
    return named[0] if named else None


def _row_problem(row: dict, root: Path, data_root: Path) -> str | None:
    if None in row:
        return TOO_MANY_VALUES
    if any("\0" in value for value in row.values() if value):
        return "a value holds a NUL byte"
    if not row["path"]:
        return "the path is empty"
    image = root / row["path"]
    try:
        resolved = image.resolve()
    except RuntimeError as err:  # a symlink loop
        return f"the path cannot be followed ({err})"
    if Path(row["path"]).is_absolute() or not resolved.is_relative_to(root):
        return f"the path leads out of the data folder {data_root}"
    if not image.is_file():
        return f"file not found in the data folder {data_root}"
    if row["label"] not in LABELS:
        return f"label {row['label']!r} is not 0 or 1 (1: the attribute shows, e.g. glasses worn)"
    if row["split"] not in SPLITS:
        return f"split {row['split']!r} is not one of {', '.join(sorted(SPLITS))}"
    return None


def _duplicate(image: Path, line: int, first_line: dict[Path, int]) -> str | None:
    """The same image twice would be reviewed twice and trained on twice; which label holds is ambiguous."""
    key = image.resolve()
    if key in first_line:
        return f"the same image as line {first_line[key]}"
    first_line[key] = line
    return None


def _probability(text: str | None) -> float | None:
    """NaN for an empty value (no face found), None for a value that is not a probability."""
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def write_manifest(rows: list[dict], out: Path) -> None:
    """The manifest columns first, then any extra ones the rows carry (e.g. `pred_prob`), in first-seen order."""
    extra = [key for key in dict.fromkeys(k for row in rows for k in row) if key not in MANIFEST_COLUMNS]
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*MANIFEST_COLUMNS, *extra])
        writer.writeheader()
        writer.writerows(rows)
