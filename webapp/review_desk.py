"""The Relabel tab's shared half: the manifest the app was started with, its review database, and its
suspect ranking, made once and served to every reviewer's browser session.

The operator chooses the manifest, data folder and database on the command line (`python app.py --manifest
...`), never a visitor in the browser: the tab shows files from the data folder to whoever opens the page.
"""
from __future__ import annotations

import threading
from pathlib import Path

from glasses.manifest import Manifest, load_manifest
from relabel.faces import FaceBoxes
from relabel.session import Filters, ReviewSession
from relabel.store import ReviewStore
from relabel.suspects import Ranking, rank_manifest
from webapp.shared_predictor import SharedPredictor


class ReviewDesk:
    """Open with `ReviewDesk.open` (refuses a bad manifest or database with ManifestError or StoreError before
    the app serves anyone); `session` starts one reviewer's queue."""

    def __init__(self, manifest: Manifest, store: ReviewStore, predictor: SharedPredictor):
        self.manifest, self.store, self.predictor = manifest, store, predictor
        self._ranking: Ranking | None = None
        self._faces: FaceBoxes | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, manifest: Path, data_root: Path, db: Path, predictor: SharedPredictor) -> "ReviewDesk":
        return cls(load_manifest(Path(manifest), Path(data_root)), ReviewStore(db), predictor)

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
        return ReviewSession(self.manifest, ranking, self.store, reviewer, filters, self._face_boxes(ranking))

    def _face_boxes(self, ranking: Ranking) -> FaceBoxes | None:
        """A pred_prob ranking carries no boxes: one detector, shared by all sessions, finds them ahead."""
        if any(suspect.box is not None for suspect in ranking.suspects):
            return None
        with self._lock:
            if self._faces is None:
                self._faces = FaceBoxes()
            return self._faces
