"""Metrics of the glasses class, and the decision threshold, from scikit-learn."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_curve, precision_score, \
    recall_score, roc_auc_score


def best_f1_threshold(labels: np.ndarray, probs: np.ndarray) -> float:
    """The probability cut that maximises F1 of the glasses class on these (validation) predictions."""
    precision, recall, thresholds = precision_recall_curve(labels, probs)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[np.argmax(f1[:-1])])


def summarize(labels: np.ndarray, probs: np.ndarray, threshold: float) -> dict:
    """Counts and metrics at `threshold`; ROC-AUC only where both classes occur."""
    predicted = (probs >= threshold).astype(int)
    both = len(set(labels.tolist())) == 2
    return {
        "n": int(len(labels)),
        "positives": int(labels.sum()),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "precision": round(float(precision_score(labels, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(labels, predicted, zero_division=0)), 4),
        "f1": round(float(f1_score(labels, predicted, zero_division=0)), 4),
        "roc_auc": round(float(roc_auc_score(labels, probs)), 4) if both else None,
    }
