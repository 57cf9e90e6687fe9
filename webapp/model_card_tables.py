"""The model card's facts (weights/model_card.json, written by training/model_card.py) as the tables the Model
tab shows: test metrics per source, reviewed labels per source, and where the model came from.

Each function takes the card as a dict and returns (headers, rows); a card without the section gives no rows, so
that a card from an older training run still shows what it has.
"""
from __future__ import annotations

Table = tuple[list[str], list[list]]

_METRICS = [("n", "photos"), ("positives", "with glasses"), ("accuracy", "accuracy"), ("precision", "precision"),
            ("recall", "recall"), ("f1", "F1"), ("roc_auc", "ROC-AUC"), ("ece", "ECE"),
            ("not_detected", "no face found")]
_REVIEW_COUNTS = [("reviewed", "reviewed"), ("flipped_to_glasses", "flipped to glasses"),
                  ("flipped_to_no_glasses", "flipped to no glasses"), ("dropped_no_face", "dropped: no face"),
                  ("held_out", "held out")]


def _words(card: dict) -> tuple[str, str]:
    """The card's model's words for its positive and negative labels (a card that records none: glasses)."""
    labels = card.get("labels") or {}
    positive, negative = labels.get("positive", "glasses"), labels.get("negative", "no_glasses")
    return str(positive).replace("_", " "), str(negative).replace("_", " ")


def _titled(columns: list[tuple[str, str]], card: dict) -> list[str]:
    """Column titles with the glasses words replaced by the card's model's."""
    positive, negative = _words(card)
    return [title.replace("no glasses", negative).replace("glasses", positive)
            if "glasses" in title else title for _, title in columns]


def test_metrics(card: dict) -> Table:
    """One row per source of the test split (and `all`), the positive class's figures (glasses)."""
    headers = ["source"] + _titled(_METRICS, card)
    rows = [[source] + [_cell(figures.get(key)) for key, _ in _METRICS]
            for source, figures in card.get("test_metrics", {}).items()]
    return headers, rows


def reviews(card: dict) -> Table:
    """One row per source of the labels reviewed by eye before training (relabel/), with what changed."""
    headers = ["source"] + _titled(_REVIEW_COUNTS, card)
    by_source = (card.get("provenance") or {}).get("reviews", {}).get("by_source", {})
    return headers, [[source] + [counts.get(key, 0) for key, _ in _REVIEW_COUNTS]
                     for source, counts in by_source.items()]


def provenance(card: dict) -> Table:
    """What the model was made from: its file, the manifest and decisions files (with their sha256), the
    reviewers and the code's commit."""
    rows: list[list] = []
    model = card.get("model") or {}
    if model:
        rows.append(["model", f"{model.get('file', '')}: {model.get('architecture', '')}, "
                              f"{model.get('parameters', 0):,} parameters, input {model.get('input_size', '')} px"])
    if "threshold" in card:
        rule = card.get("threshold_rule")
        rows.append(["threshold", f"{card['threshold']}" + (f" ({rule})" if rule else "")])
    origin = card.get("provenance") or {}
    manifest, decisions, code = origin.get("manifest"), origin.get("reviews"), origin.get("code")
    if manifest:
        rows.append(["manifest", f"{manifest.get('file') or 'raw labels'}, {manifest.get('rows', 0):,} rows"
                                 + _hash(manifest)])
    if decisions:
        rows.append(["decisions", f"{decisions.get('file', '')}, {decisions.get('decisions', 0):,} decisions"
                                  + _hash(decisions)])
        reviewers = decisions.get("reviewers") or {}
        if reviewers:   # name -> decisions, or a list of names
            rows.append(["reviewers", ", ".join(f"{name} ({count:,})" for name, count in reviewers.items())
                         if isinstance(reviewers, dict) else ", ".join(reviewers)])
    if code:
        rows.append(["code", f"commit {code.get('commit', '')}"
                             + (", with uncommitted changes" if code.get("uncommitted_changes") else "")])
    return ["what", "value"], rows


def _hash(entry: dict) -> str:
    return f", sha256 {entry['sha256']}" if entry.get("sha256") else ""


def _cell(value):
    return "" if value is None else value
