"""Predictions written as they come in the CLI's formats: json (an array of glasses.Prediction objects), jsonl
(one per line), csv and table (their flattening, one row per face: glasses.prediction.columns, COLUMNS for the
shipped glasses model)."""
from __future__ import annotations

import csv
import io
import json
from typing import IO

from glasses.prediction import COLUMNS, Prediction

FORMATS = ("table", "csv", "json", "jsonl")


STREAMED = ("csv", "jsonl")   # the formats written a Prediction at a time, which --resume can continue


def csv_header(columns: tuple[str, ...] = COLUMNS) -> str:
    """The CSV's first line, as the writer writes it, for a model whose rows have `columns`
    (glasses.prediction.columns: the probability's column is named after the model's positive label)."""
    return ",".join(columns) + "\n"


class PredictionWriter:
    """Writes each Prediction as it comes (csv, jsonl) or all at the end (json, table, which need them all).

    A streamed Prediction is written as one write of whole lines, flushed at once: a process killed at any
    point leaves the lines of the Predictions before it and at most one torn line after them, which
    glasses/resume.py cuts off. `header=False`: a CSV continued, whose header is written already."""

    def __init__(self, fmt: str, out: IO[str], header: bool = True, columns: tuple[str, ...] = COLUMNS):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
        self.fmt, self.out, self.pending, self.columns = fmt, out, [], tuple(columns)
        if fmt == "csv" and header:
            out.write(csv_header(self.columns))
            out.flush()

    def write(self, prediction: Prediction) -> None:
        if self.fmt == "csv":
            text = io.StringIO()
            csv.DictWriter(text, fieldnames=self.columns, lineterminator="\n").writerows(
                {k: "" if v is None else v for k, v in row.items()} for row in prediction.rows())
            self.out.write(text.getvalue())
        elif self.fmt == "jsonl":
            self.out.write(json.dumps(prediction.to_dict()) + "\n")
        elif self.fmt == "json":
            self.pending.append(prediction.to_dict())
        else:
            self.pending += prediction.rows()
        self.out.flush()

    def close(self) -> None:
        if self.fmt == "json":
            json.dump(self.pending, self.out, indent=2)
            self.out.write("\n")
        elif self.fmt == "table":
            self.out.write(_table(self.pending, self.columns))


def _table(rows: list[dict], columns: tuple[str, ...]) -> str:
    cells = [list(columns)] + [["" if row[c] is None else str(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n" for line in cells)
