"""Results as the rows and words the app shows and downloads: the Batch table has the CLI's CSV columns
(glasses.prediction.columns), so the two agree; the Classify tab's table, headline and the Batch counts are read
by a person, so they put the answer first and show probabilities as percentages (the JSON keeps them as they are,
the result contract's numbers). Column names and words follow the served model's labels (glasses/labels.py):
`glasses_prob` and "with glasses" for the shipped model, `hat_prob` and "with hat" for a hat model."""
from __future__ import annotations

from glasses.labels import GLASSES_LABELS, LabelNames
from glasses.overlay import caption
from glasses.prediction import ERROR, NO_FACE, Prediction, columns


def photo_columns(labels: LabelNames = GLASSES_LABELS) -> list[str]:
    """The Classify tab shows one photo, so its table leaves out the columns that are the photo's, not a face's,
    and starts with the answer: on a phone's narrow screen, label and probability show before the table
    scrolls."""
    return ["label", labels.prob_key, "face", "face_prob", "x1", "y1", "x2", "y2"]


def count_columns(labels: LabelNames = GLASSES_LABELS) -> list[str]:
    return ["photos", "faces", f"with {labels.word(labels.positive)}", "no face", "errors"]


PHOTO_COLUMNS, COUNT_COLUMNS = photo_columns(), count_columns()   # the shipped glasses model's


def photo_table(prediction: Prediction) -> list[list]:
    """One row per face (or the one no-face row), photo_columns, probabilities as percentages."""
    shown = photo_columns(prediction.labels)
    percents = {prediction.labels.prob_key, "face_prob"}
    return [[percent(row[c]) if c in percents else _cell(row[c]) for c in shown] for row in prediction.rows()]


def percent(probability: float | None) -> str:
    """0.9991 -> "99.9%"; nothing for a row without a face."""
    return "" if probability is None else f"{probability:.1%}"


def headline(prediction: Prediction) -> str:
    """The verdict a person reads first: the largest face's label and its confidence, as the overlay writes
    them ("glasses 97%"), with how many faces there are when there are several."""
    if prediction.error is not None:
        return "cannot classify"
    if not prediction.faces:
        return "no face found"
    verdict = caption(prediction.faces[0])
    return verdict if len(prediction.faces) == 1 else f"{verdict} (largest of {len(prediction.faces)} faces)"


def counts(photos: int, rows: list[dict], labels: LabelNames = GLASSES_LABELS) -> list[list[int]]:
    """The Batch counts, count_columns, as one table row: `photos` (each file or zip member tried, read or not),
    the faces in `rows`, those with the model's attribute (glasses), the photos without a face, and the files
    that could not be read."""
    faces = [r for r in rows if r["face"] is not None]
    return [[photos, len(faces), sum(r["label"] == labels.positive for r in faces),
             sum(r["label"] == NO_FACE for r in rows), sum(r["label"] == ERROR for r in rows)]]


def batch_table(rows: list[dict], labels: LabelNames = GLASSES_LABELS) -> list[list]:
    return [[_cell(row[c]) for c in columns(labels)] for row in rows]


def _cell(value):
    return "" if value is None else value


def summary(rows: list[dict], labels: LabelNames = GLASSES_LABELS) -> str:
    """One line a person reads first: how many faces, how many with the attribute (glasses), what went wrong."""
    faces = [r for r in rows if r["face"] is not None]
    positive = sum(r["label"] == labels.positive for r in faces)
    parts = [f"{len(faces)} face{'s' * (len(faces) != 1)} ({positive} with {labels.word(labels.positive)})"]
    no_face = sum(r["label"] == NO_FACE for r in rows)
    errors = sum(r["error"] is not None for r in rows)
    if no_face:
        parts.append(f"{no_face} photo{'s' * (no_face != 1)} without a face")
    if errors:
        parts.append(f"{errors} unreadable file{'s' * (errors != 1)}")
    return ", ".join(parts)
