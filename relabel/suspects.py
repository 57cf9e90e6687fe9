"""Rank a manifest's rows by how likely their label is wrong: by self-confidence, the probability of the given label.

The probabilities come from the manifest's `pred_prob` column (out-of-fold, training/oof.py: the model that
scored a row never saw it) when it has one, else from the current model run over the images now; the
ranking says which. Out-of-fold is better: the current model was trained on these very labels and tends to
agree with their mistakes. Rows with no probability (no face found, unreadable) are ranked last, unscored.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from glasses.errors import GlassesError
from glasses.labels import GLASSES_LABELS, LabelNameError, LabelNames, names_for
from glasses.manifest import Manifest, ManifestError

# Self-confidence without a class adjustment, as cleanlab's get_label_quality_scores(method="self_confidence")
# computes it, in one numpy line. Chosen on bench/relabel.py's flipped-label recall (docs/relabel.md, "How well
# the ranking finds wrong labels"): the alternatives find no more flips.

Box = tuple[int, int, int, int]


class ModelError(GlassesError, RuntimeError):
    """The model that would score a manifest without pred_prob cannot be loaded or tells another attribute than
    the manifest's labels are of; the message names the file."""


@dataclass(frozen=True)
class Suspect:
    path: str
    label: int
    source: str
    pred_prob: float | None   # P(glasses); None where there is none
    score: float | None       # label quality: 0 = surely wrong .. 1 = surely right; None unscored
    rank: int                 # 1 = the most suspect
    box: Box | None           # the scored face where the model ran here; None from pred_prob


@dataclass(frozen=True)
class Ranking:
    suspects: list[Suspect]   # most suspect first
    probabilities: str        # where pred_prob came from, to show reviewers


def label_quality(labels: np.ndarray, pred_prob: np.ndarray) -> np.ndarray:
    """Each row's self-confidence, from P(glasses): the probability of its given label (lower: more likely
    wrong). A row labelled 1 with P(glasses) 0.1 scores 0.1; one labelled 0 with it, 0.9."""
    probs = np.clip(np.asarray(pred_prob, float), 0.0, 1.0)
    return np.where(np.asarray(labels, int) == 1, probs, 1 - probs)


def rank(manifest: Manifest, pred_prob: list[float], probabilities: str,
         boxes: list[Box | None] | None = None) -> Ranking:
    """The manifest's rows ordered by label quality, ties and unscored rows in manifest order."""
    probs = np.array(pred_prob, float)
    scored = np.flatnonzero(~np.isnan(probs))
    scores = np.full(len(probs), np.nan)
    if len(scored):
        scores[scored] = label_quality(np.array(manifest.labels)[scored], probs[scored])
    order = np.lexsort((np.arange(len(probs)), np.nan_to_num(scores, nan=2.0)))  # scores <= 1: NaN last
    return Ranking([Suspect(path=manifest.rows[i]["path"], label=manifest.rows[i]["label"],
                            source=manifest.rows[i]["source"], pred_prob=_number(probs[i]),
                            score=_number(scores[i]), rank=position,
                            box=boxes[i] if boxes else None)
                    for position, i in enumerate(order, 1)], probabilities)


def rank_manifest(manifest: Manifest, weights: Path | None = None, predictor=None) -> Ranking:
    """Ranked from the manifest's pred_prob, else from `predictor` (a glasses.Predictor; one is loaded from
    `weights`, default the shipped model, when none is given) run over every image."""
    if manifest.pred_prob is not None:
        return rank(manifest, manifest.pred_prob, f"out-of-fold pred_prob column of {manifest.path.name}")
    from glasses.weights import DEFAULT_WEIGHTS  # onnxruntime loads only when the model has to run
    weights = Path(weights or DEFAULT_WEIGHTS)
    predictor = predictor or load_predictor(weights)
    problem = attribute_mismatch(manifest, predictor.labels)
    if problem:
        raise ModelError(problem, weights)
    pred_prob, boxes = model_probabilities(manifest, predictor)
    return rank(manifest, pred_prob, f"current model {weights.name}, run now (the manifest has no pred_prob)",
                boxes)


def attribute_mismatch(manifest: Manifest, labels) -> str | None:
    """Why a model telling `labels.attribute` cannot rank `manifest`'s labels (those of another attribute:
    P(glasses) says nothing of a Male label), or None when it can."""
    wanted = review_labels(manifest).attribute
    if labels.attribute == wanted:
        return None
    return (f"the model tells {labels.attribute} and {manifest.path.name}'s labels are of {wanted}: rank them with "
            f"a {wanted} model (--weights), or give the manifest out-of-fold pred_prob (python -m training.oof "
            f"--attribute {wanted})")


def review_labels(manifest: Manifest, model_labels: LabelNames | None = None) -> LabelNames:
    """The names the review shows for a manifest's labels 1 and 0: those of `model_labels` (the served model's,
    which may be named by its trainer) where it tells the manifest's attribute, else its attribute column's
    (glasses.labels.names_for), the glasses ones where it has none. Raises ManifestError for an attribute that
    gives no usable names."""
    attribute = manifest.attribute or GLASSES_LABELS.attribute
    if model_labels is not None and model_labels.attribute == attribute:
        return model_labels
    try:
        return names_for(manifest.attribute) if manifest.attribute else GLASSES_LABELS
    except LabelNameError as err:
        raise ManifestError(f"its attribute column names {manifest.attribute!r}, which gives no label names "
                            f"({err})", manifest.path) from None


def load_predictor(weights: Path):
    """A glasses.Predictor from `weights`; raises ModelError naming the file when it is missing or not a model."""
    from glasses.predictor import Predictor
    from glasses.weights import ModelFileError
    try:
        return Predictor(weights)
    except ModelFileError as err:
        raise ModelError(err.reason, err.path) from None


def model_probabilities(manifest: Manifest, predictor) -> tuple[list[float], list[Box | None]]:
    """The model's probability (P(glasses) for the shipped model) and box of the largest face in each image (the
    face training crops), NaN/None where none."""
    from glasses.images import ImageError
    from relabel.contained import read_contained
    pred_prob, boxes = [], []
    for row in tqdm(manifest.rows, desc="scoring images", unit="img", file=sys.stderr):
        try:   # read only from inside the data folder, checked as the file is opened
            faces = predictor.predict(read_contained(manifest.data_root, row["path"]))
        except ImageError:
            faces = []
        pred_prob.append(faces[0].prob if faces else math.nan)
        boxes.append(faces[0].box if faces else None)
    return pred_prob, boxes


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 5)
