"""`glasses predict --resume --output FILE`: continue a run that was stopped (Ctrl-C, kill -9, a reboot) from
what its output file holds, so that the file ends as an uninterrupted run would have written it.

The streamed formats (csv, jsonl; glasses/report.py) write each Prediction as whole lines in one write, flushed
at once, in input order. So a stopped run leaves whole Predictions, then at most one torn line, which is cut
off. A JSONL line is a whole Prediction. A CSV Prediction is one row per face, and its rows do not say how many
faces there were, so the file's last Prediction is cut off too and predicted again: one photo's work, for the
certainty that no face row is lost. Inputs whose names the rest holds are skipped; the others are predicted and
appended, in input order. Given the same inputs, the file then equals an uninterrupted run's, byte for byte.

A file written in another format or with other columns, and --resume where there is no file to continue (json
and table are written only at the end; stdout cannot be read back), are refused before anything is written.
Rows are flushed, not fsynced: a killed process loses nothing the kernel was handed; a power cut may lose the
last rows, which a resumed run then predicts again.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass

from glasses.prediction import COLUMNS, SCHEMA, printable
from glasses.report import STREAMED, csv_header


class ResumeError(ValueError):
    """--resume cannot continue this file; the message says why and what to do."""


@dataclass(frozen=True)
class Resumed:
    """What a stopped run left: `keep` bytes of the file are whole Predictions, named `done` (as printed), of
    which `errors` were images that could not be read; `header` whether the CSV's header is among them."""

    keep: int
    done: frozenset[str]
    errors: int
    header: bool


def check_resumable(fmt: str, output: str | None) -> None:
    """Refuse --resume where it cannot work: raises ResumeError saying why."""
    if output is None:
        raise ResumeError("--resume needs --output FILE: results written to standard output cannot be read back")
    if fmt not in STREAMED:
        raise ResumeError(f"--resume works with --format csv or jsonl, which write each image as it is done; "
                          f"--format {fmt} writes everything at the end, so a stopped run leaves nothing to "
                          f"continue")


def read_progress(path: str, fmt: str, columns: tuple[str, ...] = COLUMNS) -> Resumed:
    """What the file at `path` (written by a run in `fmt`, in CSV with `columns`: the model's,
    glasses.prediction.columns) holds; a missing or empty file holds nothing. Raises ResumeError for a file that
    is not such a run's output."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return Resumed(0, frozenset(), 0, False)
    except OSError as err:
        raise ResumeError(f"--resume: cannot read {path}: {err.strerror or err}") from None
    whole = data[:data.rfind(b"\n") + 1]          # a torn last line (no newline yet) is cut off
    try:
        text = whole.decode("utf-8")
    except UnicodeDecodeError:
        raise ResumeError(f"--resume: {path} is not a glasses {fmt} file (not UTF-8 text)") from None
    if fmt == "csv":
        return _csv_progress(path, text, columns)
    return _jsonl_progress(path, text, columns)


def _csv_progress(path: str, text: str, columns: tuple[str, ...]) -> Resumed:
    header = csv_header(columns)
    if not text:
        return Resumed(0, frozenset(), 0, False)
    if not text.startswith(header):
        first = text.splitlines()[0]
        raise ResumeError(f"--resume: {path} was not written by `glasses predict --format csv` with these columns "
                          f"(its first line is {first[:200]!r}, expected {header.strip()!r}); give another "
                          f"--output, or the --format it was written in")
    lines = text[len(header):].splitlines(keepends=True)
    rows = []
    for number, line in enumerate(lines, 2):
        try:
            row = next(csv.reader(io.StringIO(line)))
        except (csv.Error, StopIteration):
            row = []
        if len(row) != header.count(",") + 1:
            raise ResumeError(f"--resume: {path} line {number} is not a row of glasses' columns; give another "
                              f"--output, or the --format it was written in")
        rows.append((row[0], row[-2], line))
    # The last Prediction's rows may not all have been written: they go, and it is predicted again.
    while rows and len(rows) > 1 and rows[-2][0] == rows[-1][0]:
        rows.pop()
    if rows:
        rows.pop()
    names = [name for name, _, _ in rows]
    errors = len({name for name, label, _ in rows if label == "error"})
    keep = len(header.encode("utf-8")) + sum(len(line.encode("utf-8")) for _, _, line in rows)
    return Resumed(keep, frozenset(names), errors, True)


def _jsonl_progress(path: str, text: str, columns: tuple[str, ...]) -> Resumed:
    prob_key = next(column for column in columns if column.endswith("_prob") and column != "face_prob")
    names, errors = [], 0
    for number, line in enumerate(text.splitlines(), 1):
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not (isinstance(obj, dict) and obj.get("schema") == SCHEMA and isinstance(obj.get("name"), str)):
            raise ResumeError(f"--resume: {path} line {number} is not a glasses prediction ({SCHEMA}); give "
                              f"another --output, or the --format it was written in")
        faces = obj.get("faces")
        if not isinstance(faces, list) or any(not isinstance(face, dict) or prob_key not in face for face in faces):
            raise ResumeError(f"--resume: {path} line {number} was written by a model with other labels (its faces "
                              f"have no {prob_key}); give another --output, or the --weights it was written with")
        names.append(obj["name"])
        errors += obj.get("error") is not None
    return Resumed(len(text.encode("utf-8")), frozenset(names), errors, False)


def remaining(inputs: list, progress: Resumed, name_of) -> list:
    """The inputs the file does not hold yet, in their order (`name_of(input)`: its name as results give it)."""
    return [item for item in inputs if printable(name_of(item)) not in progress.done]


def open_for_resume(path: str, progress: Resumed):
    """The file cut to its whole Predictions and opened to append to them."""
    if os.path.exists(path):
        with open(path, "r+b") as file:
            file.truncate(progress.keep)
    return open(path, "a", newline="", encoding="utf-8")
