"""Contact sheets: pages of numbered face crops with their given labels, for reviewing a ranking by eye.

    python -m relabel sheets MANIFEST --top 1000 --out /tmp/sheets        # the 1,000 most suspect rows
    python -m relabel sheets MANIFEST --paths chosen.csv --out /tmp/sheets # rows listed in a CSV's path column

Each sheet (sheet_001.png, ...) holds up to --per-sheet faces, most suspect first: the largest face of each
image (the one training crops) with room around it, so a reviewer sees whether glasses sit on the eyes or on
the forehead, and under it its number, the given label and the model's P(glasses). `index.csv` maps every
number back to its row (sheet, number, path, label, pred_prob, score). A reviewer's answers by number become
a decisions CSV (path,label,reviewer) for `python -m relabel import`, which records them in the review store.

The sheets are pictures of the data: write them outside the repository.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from glasses.detect import FaceDetector
from glasses.images import ImageError, load_image
from glasses.labels import GLASSES_LABELS
from glasses.manifest import CsvError, read_rows
from relabel.contained import read_contained
from relabel.suspects import Suspect

TILE = 192            # pixels a face is shown at: thin rims stay visible
CAPTION = 22          # pixels of text under each face
COLUMNS = 6
CONTEXT = 2.0         # shown side, as a multiple of the face box's longer side: brow, temples and forehead
INDEX_COLUMNS = ("sheet", "number", "path", "label", "pred_prob", "score")
LABEL_WORDS = GLASSES_LABELS.words   # a glasses manifest's; another attribute's: write_sheets' words


@dataclass(frozen=True)
class Sheet:
    path: Path
    rows: list[dict]   # INDEX_COLUMNS


def write_sheets(suspects: Iterable[Suspect], data_root: Path, out: Path, per_sheet: int = 24,
                 detector: FaceDetector | None = None, words: dict[int, str] = LABEL_WORDS) -> list[Sheet]:
    """Sheets of `suspects` in their order, and out/index.csv. Numbers run on across sheets (1, 2, ...), so a
    number names one row of the whole review. `words`: how a tile names labels 1 and 0 (the attribute's)."""
    if per_sheet < 1:
        raise ValueError(f"per_sheet must be a positive number, got {per_sheet}")
    detector = detector or FaceDetector()
    out.mkdir(parents=True, exist_ok=True)
    suspects = list(suspects)
    sheets = []
    for start in range(0, len(suspects), per_sheet):
        part = suspects[start:start + per_sheet]
        name = out / f"sheet_{len(sheets) + 1:03d}.png"
        rows = [_index_row(name.name, start + i + 1, s) for i, s in enumerate(part)]
        _draw_sheet([_tile(data_root, s, detector) for s in part], rows, words).save(name)
        sheets.append(Sheet(name, rows))
    with open(out / "index.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=INDEX_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row for sheet in sheets for row in sheet.rows)
    return sheets


def _index_row(sheet: str, number: int, suspect: Suspect) -> dict:
    return {"sheet": sheet, "number": number, "path": suspect.path, "label": suspect.label,
            "pred_prob": "" if suspect.pred_prob is None else round(suspect.pred_prob, 3),
            "score": "" if suspect.score is None else round(suspect.score, 4)}


def _tile(data_root: Path, suspect: Suspect, detector: FaceDetector) -> Image.Image | None:
    """The largest face with CONTEXT around it, TILE x TILE; the whole image where no face is found; None where
    the image cannot be read."""
    try:
        image = load_image(read_contained(data_root, suspect.path))
    except ImageError:
        return None
    faces = detector.detect(image)
    return face_tile(image, faces[0].box if faces else None)


def face_tile(image: Image.Image, box, side: int = TILE) -> Image.Image:
    """The face in `box` (x1, y1, x2, y2) with CONTEXT around it, `side` x `side`; the whole image, shrunk to fit
    `side`, where `box` is None. The sheets' tiles and the app's grid of crops are drawn by it."""
    if box is None:
        image = image.copy()
        image.thumbnail((side, side))
        return image
    x1, y1, x2, y2 = box
    extent = max(x2 - x1, y2 - y1) * CONTEXT
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    region = tuple(round(v) for v in (cx - extent / 2, cy - extent / 2, cx + extent / 2, cy + extent / 2))
    return image.crop(region).resize((side, side), Image.LANCZOS)


def _draw_sheet(tiles: list[Image.Image | None], rows: list[dict], words: dict[int, str]) -> Image.Image:
    lines = math.ceil(len(tiles) / COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * TILE, lines * (TILE + CAPTION)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=15)
    for i, (tile, row) in enumerate(zip(tiles, rows)):
        x, y = (i % COLUMNS) * TILE, (i // COLUMNS) * (TILE + CAPTION)
        if tile is None:
            draw.text((x + 8, y + TILE // 2), "cannot be read", fill="red", font=font)
        else:
            sheet.paste(tile, (x + (TILE - tile.width) // 2, y + (TILE - tile.height) // 2))
        prob = f" p={row['pred_prob']:.2f}" if row["pred_prob"] != "" else " no face"
        colour = "darkred" if row["label"] == 1 else "black"
        draw.text((x + 4, y + TILE + 2), f"#{row['number']} {words[row['label']]}{prob}", fill=colour,
                  font=font)
        draw.rectangle((x, y, x + TILE - 1, y + TILE + CAPTION - 1), outline="grey")
    return sheet


def read_paths(path: Path) -> list[str]:
    """The `path` column of a CSV (the output of `python -m relabel suspects`, or any list of rows); raises
    CsvError (a ValueError) naming the file."""
    _, numbered = read_rows(path, ("path",), CsvError, "a list of rows has a path column")
    return [row["path"] for _, row in numbered]
