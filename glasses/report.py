"""Predictions written as they come in the CLI's formats: json (an array of glasses.Prediction objects), jsonl
(one per line), csv and table (their flattening, one row per face: glasses.prediction.columns, COLUMNS for the
shipped glasses model)."""
from __future__ import annotations

import csv
import json
from typing import IO

from glasses.prediction import COLUMNS, Prediction

FORMATS = ("table", "csv", "json", "jsonl")


class PredictionWriter:
    """Writes each Prediction as it comes (csv, jsonl) or all at the end (json, table, which need them all)."""

    def __init__(self, fmt: str, out: IO[str], columns: tuple[str, ...] = COLUMNS):
        """`columns`: the model's (glasses.prediction.columns: the probability's column is named after its
        positive label)."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
        self.fmt, self.out, self.pending, self.columns = fmt, out, [], tuple(columns)
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
            self._csv.writeheader()

    def write(self, prediction: Prediction) -> None:
        if self.fmt == "csv":
            self._csv.writerows({k: "" if v is None else v for k, v in row.items()} for row in prediction.rows())
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
