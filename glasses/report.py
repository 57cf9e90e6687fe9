"""Results as rows (one per face, or one per image without a face or with an error) and their text formats."""
from __future__ import annotations

import csv
import json
import unicodedata
from typing import IO, Iterable

from glasses.predictor import FaceResult

COLUMNS = ("path", "face", "x1", "y1", "x2", "y2", "face_prob", "glasses_prob", "label", "error")
FORMATS = ("table", "csv", "json", "jsonl")
NO_FACE, ERROR = "no_face", "error"


def face_rows(path: str, faces: list[FaceResult]) -> list[dict]:
    if not faces:
        return [_row(path, label=NO_FACE)]
    return [_row(path, face=i, x1=f.box[0], y1=f.box[1], x2=f.box[2], y2=f.box[3], face_prob=f.face_prob,
                 glasses_prob=f.glasses_prob, label=f.label) for i, f in enumerate(faces)]


def error_row(path: str, reason: str) -> dict:
    return _row(path, label=ERROR, error=_writable(reason))


def _row(path: str, **values) -> dict:
    return {column: values.get(column) for column in COLUMNS} | {"path": _writable(path)}


def _writable(text: str) -> str:
    """`text` as one line of plain text that every format can write and that shows in a terminal as it is named.

    The bytes of a file name that is not UTF-8 (which Python hands over surrogate-escaped, and no UTF-8 stream
    can write) are shown as `\\xff`. Control characters (a terminal acts on ESC sequences, a newline or CR
    splits a table or CSV row), line and paragraph separators, and format characters (U+202E and the other
    bidirectional controls reorder the text around them, U+200B and the other invisible ones hide or fake
    text) are shown the same way, as Python's backslashreplace writes code points: `\\x1b`, `\\x0a` (a newline),
    `\\u202e`. The joiners U+200C and U+200D are kept: they are part of ordinary text (Persian, Indic scripts,
    emoji sequences), as is all other printable text. Escaping here, in the rows, keeps table, CSV, JSON, JSONL
    and the app's tables identical."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():  # false wherever a character below is escaped (and for a few that are kept)
        return text
    return "".join(_escaped(ch) for ch in text)


_HIDDEN = {"Cc", "Cf", "Zl", "Zp"}
_JOINERS = {"\u200c", "\u200d"}


def _escaped(ch: str) -> str:
    if unicodedata.category(ch) in _HIDDEN and ch not in _JOINERS:
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return ch


class RowWriter:
    """Writes rows as they come (csv, jsonl) or all at the end (json, table, which need every row first)."""

    def __init__(self, fmt: str, out: IO[str]):
        self.fmt, self.out, self.pending = fmt, out, []
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            self._csv.writeheader()

    def write(self, rows: Iterable[dict]) -> None:
        for row in rows:
            if self.fmt == "csv":
                self._csv.writerow({k: "" if v is None else v for k, v in row.items()})
            elif self.fmt == "jsonl":
                self.out.write(json.dumps(row) + "\n")
            else:
                self.pending.append(row)
        self.out.flush()

    def close(self) -> None:
        if self.fmt == "json":
            json.dump(self.pending, self.out, indent=2)
            self.out.write("\n")
        elif self.fmt == "table":
            self.out.write(_table(self.pending))


def _table(rows: list[dict]) -> str:
    cells = [list(COLUMNS)] + [["" if row[c] is None else str(row[c]) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n" for line in cells)
