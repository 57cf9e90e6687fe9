"""What one Batch run writes for the visitor, each Prediction's share as it arrives: the CSV (the CLI's
columns), the zip of every readable photo with its faces drawn, and the first GALLERY_MAX of those drawings as
files for the gallery. A photo is drawn, written and let go before the next one is read, so a batch of a
thousand photos holds one photo at a time; what is kept is the gallery's file paths and captions.

Everything goes in the run's folder (webapp/result_files.py) and is handed to Gradio, whose cache deletes it;
a drawing past GALLERY_MAX is only in the zip, never a file of its own that nothing would delete.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from glasses import Prediction
from glasses.prediction import printable
from glasses.prediction import COLUMNS
from glasses.report import PredictionWriter
from webapp.face_table import headline
from webapp.result_files import overlay_name, overlay_path_in_zip, unique

GALLERY_MAX = 100   # drawings shown in the gallery; every one is in the zip
CSV_NAME = "glasses_results.csv"
ZIP_NAME = "glasses_overlays.zip"
JPEG_QUALITY = 85


class BatchFiles:
    """The files of one run in `folder`: `add` each Prediction (kept with its photo, predict_many's
    `show_side`), then `close`; `csv_path`, `zip_path` (None when no photo could be drawn) and `gallery`
    ((path, caption) pairs) are what the tab shows."""

    def __init__(self, folder: Path, columns: tuple[str, ...] = COLUMNS, gallery_max: int = GALLERY_MAX):
        self.folder = folder
        self.gallery_max = gallery_max
        self.csv_path = folder / CSV_NAME
        self.zip_path: Path | None = folder / ZIP_NAME
        self.gallery: list[tuple[str, str]] = []
        self._csv = open(self.csv_path, "w", newline="", encoding="utf-8")
        self._writer = PredictionWriter("csv", self._csv, columns=columns)   # the served model's columns
        self._zip = zipfile.ZipFile(self.zip_path, "w", zipfile.ZIP_STORED)   # JPEGs do not compress further
        self._zipped: set[str] = set()
        self._files: set[str] = {CSV_NAME, ZIP_NAME}

    def add(self, prediction: Prediction) -> None:
        """Write `prediction`'s rows, and its drawing where its photo was read."""
        self._writer.write(prediction)
        if prediction.error is not None or prediction.photo is None:
            return
        drawing = io.BytesIO()
        prediction.overlay().save(drawing, "JPEG", quality=JPEG_QUALITY)
        self._zip.writestr(unique(overlay_path_in_zip(prediction.name), self._zipped), drawing.getvalue())
        if len(self.gallery) < self.gallery_max:
            path = self.folder / unique(overlay_name(prediction.name), self._files)
            path.write_bytes(drawing.getvalue())
            self.gallery.append((str(path), caption(prediction)))

    def close(self) -> None:
        """Finish the CSV and the zip; a zip without a drawing in it is removed (`zip_path` None)."""
        self._writer.close()
        self._csv.close()
        self._zip.close()
        if not self._zipped:
            self.zip_path.unlink()
            self.zip_path = None

    def __enter__(self) -> "BatchFiles":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def caption(prediction: Prediction) -> str:
    """The gallery's caption of a photo: its name and the verdict the Classify tab would headline."""
    return f"{printable(prediction.name)}: {headline(prediction)}"
