"""Results as the rows the app shows and downloads: the CLI's CSV columns (glasses.prediction.COLUMNS), so the
two agree."""
from __future__ import annotations

from glasses.prediction import COLUMNS, GLASSES, NO_FACE, Prediction

# The Classify tab shows one photo, so its table leaves out the columns that are the photo's, not a face's.
PHOTO_COLUMNS = [c for c in COLUMNS if c not in ("name", "width", "height", "error")]


def photo_table(prediction: Prediction) -> list[list]:
    return [[_cell(row[c]) for c in PHOTO_COLUMNS] for row in prediction.rows()]


def batch_table(rows: list[dict]) -> list[list]:
    return [[_cell(row[c]) for c in COLUMNS] for row in rows]


def _cell(value):
    return "" if value is None else value


def summary(rows: list[dict]) -> str:
    """One line a person reads first: how many faces, how many with glasses, what went wrong."""
    faces = [r for r in rows if r["face"] is not None]
    with_glasses = sum(r["label"] == GLASSES for r in faces)
    parts = [f"{len(faces)} face{'s' * (len(faces) != 1)} ({with_glasses} with glasses)"]
    no_face = sum(r["label"] == NO_FACE for r in rows)
    errors = sum(r["error"] is not None for r in rows)
    if no_face:
        parts.append(f"{no_face} photo{'s' * (no_face != 1)} without a face")
    if errors:
        parts.append(f"{errors} unreadable file{'s' * (errors != 1)}")
    return ", ".join(parts)
