"""The Relabel tab's shared half: the manifest the app was started with, its review database, and its
suspect ranking, made once and served to every reviewer's browser session.

The operator chooses the manifest, data folder, database and export file on the command line (`python app.py
--manifest ... --export OUT.csv`), never a visitor in the browser: the tab shows files from the data folder to
whoever opens the page, and its Export button writes only where the operator said.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from glasses.manifest import Manifest, load_manifest
from relabel.export import ExportError, corrected_manifest, held_out_path, overwritten_input, write_corrected
from relabel.faces import FaceBoxes
from relabel.session import Filters, ReviewSession
from relabel.store import ReviewStore
from relabel.suspects import ModelError, Ranking, attribute_mismatch, rank_manifest, review_labels
from webapp.shared_predictor import SharedPredictor


@dataclass(frozen=True)
class Exported:
    out: Path
    held_out: Path          # beside `out`: the rows left out, with why
    counts: dict[str, int]  # relabel.export.Corrected.counts: rows, written, rows per status


class ReviewDesk:
    """Open with `ReviewDesk.open` (refuses a bad manifest or database with ManifestError or StoreError, and an
    export file that would replace the manifest or the database with ExportError, before the app serves
    anyone); `session` starts one reviewer's queue; `export` writes the corrected manifest to `export_to`."""

    def __init__(self, manifest: Manifest, store: ReviewStore, predictor: SharedPredictor,
                 export_to: Path | None = None):
        self.manifest, self.store, self.predictor, self.export_to = manifest, store, predictor, export_to
        self.labels = review_labels(manifest, predictor.labels)   # what the labels are of, and their names
        self._ranking: Ranking | None = None
        self._faces: FaceBoxes | None = None
        self._lock = threading.Lock()
        self._export_lock = threading.Lock()

    @classmethod
    def open(cls, manifest: Path, data_root: Path, db: Path, predictor: SharedPredictor,
             export_to: Path | None = None) -> "ReviewDesk":
        if export_to is not None:
            export_to = Path(export_to).absolute()
            problem = overwritten_input({"--export": export_to, "--export's held-out list": held_out_path(export_to)},
                                        Path(manifest), Path(db))
            if problem:
                raise ExportError(problem)
        loaded = load_manifest(Path(manifest), Path(data_root))
        problem = None if loaded.pred_prob is not None else attribute_mismatch(loaded, predictor.labels)
        if problem:   # the ranking would run the served model: it must tell what the labels are of
            raise ModelError(problem, predictor.weights)
        return cls(loaded, ReviewStore(db), predictor, export_to)

    def export(self) -> Exported:
        """The reviewers' decisions applied to the manifest (relabel.export), written to `export_to` with the
        held-out list beside it, both whole or neither; raises ExportError naming a file that cannot be written."""
        if self.export_to is None:
            raise ExportError("the app was started without --export OUT.csv: there is nowhere to write")
        # Two reviewers pressing Export at once: one reads the decisions and writes, then the other, so that the
        # files hold the later reading, not whichever write came last.
        with self._export_lock:
            corrected = corrected_manifest(self.manifest, self.store.current())
            held_out = write_corrected(corrected, self.export_to)
        return Exported(self.export_to, held_out, corrected.counts)

    @property
    def sources(self) -> list[str]:
        return sorted({row["source"] for row in self.manifest.rows})

    def ranking(self) -> Ranking:
        """Ranked on first use: from the manifest's pred_prob in a second, or by running the model over every
        image (minutes for thousands), which the first reviewer waits for with a progress bar."""
        with self._lock:
            if self._ranking is None:
                self._ranking = rank_manifest(self.manifest, self.predictor.weights, self.predictor)
            return self._ranking

    def session(self, reviewer: str, filters: Filters) -> ReviewSession:
        ranking = self.ranking()
        return ReviewSession(self.manifest, ranking, self.store, reviewer, filters, self._face_boxes(ranking),
                             self.labels)

    def _face_boxes(self, ranking: Ranking) -> FaceBoxes | None:
        """A pred_prob ranking carries no boxes: one detector, shared by all sessions, finds them ahead."""
        if any(suspect.box is not None for suspect in ranking.suspects):
            return None
        with self._lock:
            if self._faces is None:
                self._faces = FaceBoxes()
            return self._faces
