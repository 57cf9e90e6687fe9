"""What every tab of the app is built from: the shared model and, when the app was started with a manifest,
the review desk of the Relabel tab."""
from __future__ import annotations

from dataclasses import dataclass

from webapp.review_desk import ReviewDesk
from webapp.shared_predictor import SharedPredictor


@dataclass(frozen=True)
class AppContext:
    predictor: SharedPredictor
    desk: ReviewDesk | None = None   # None: the app was started without --manifest
