"""A P(glasses) that means what it says: Platt scaling of the classifier's logit, fitted on validation and
folded into the network's last layer, and the expected calibration error that measures it.

A network trained with cross-entropy on a small, imbalanced class (CelebA-HQ: 8% glasses) is over-confident,
and the threshold that maximises F1 lands where its probabilities are bunched (0.96 for a model trained on
raw labels). Platt scaling fits P = sigmoid(scale * logit + bias) to the validation labels by maximum
likelihood (scikit-learn's logistic regression on the one feature), against Platt's smoothed targets
((N+ + 1) / (N+ + 2) for a glasses face, 1 / (N- + 2) for another) so that validation faces the model already
separates perfectly do not drive the scale up without bound; with scale > 0 it keeps every face's
order, so ROC-AUC is unchanged, and it only moves where a probability sits. Folded into the final linear
layer (weight * scale, bias * scale + bias), the exported model outputs the calibrated logit itself: the
runtime, the mirror pass and the threshold need no new field. For a calibrated model the threshold that
maximises F1 sits near half the best F1 (Lipton et al., 2014), so near 0.5 for a good classifier.
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from torch import nn

from glasses.errors import GlassesError

BINS = 15   # equal-width bins of the expected calibration error, as many as Guo et al. (2017) use


class CalibrationError(GlassesError, ValueError):
    """Validation data from which no calibration can be fitted; the message says why."""


def fit_platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(scale, bias) of sigmoid(scale * logit + bias) that fits `labels` best on these (validation) logits."""
    labels = np.asarray(labels).astype(int)
    if len(set(labels.tolist())) < 2:
        raise CalibrationError("calibration needs both labels among the validation faces")
    positives, negatives = labels.sum(), len(labels) - labels.sum()
    target = np.where(labels == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    z = np.asarray(logits, np.float64).reshape(-1, 1)
    # each face once as a glasses example weighted by its target and once as the other, weighted by the rest
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(np.concatenate([z, z]),
                                                       np.r_[np.ones(len(z)), np.zeros(len(z))],
                                                       sample_weight=np.r_[target, 1 - target])
    scale, bias = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    if scale <= 0:
        raise CalibrationError(f"the validation logits rank the labels backwards (scale {scale:.3g})")
    return round(scale, 6), round(bias, 6)


def fold_into_head(model: nn.Module, scale: float, bias: float) -> None:
    """Make `model`'s logit scale * logit + bias, in its last linear layer (one output: the glasses logit)."""
    head = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not head or head[-1].out_features != 1:
        raise CalibrationError(f"{type(model).__name__} does not end in a linear layer with one output")
    layer = head[-1]
    layer.weight.data.mul_(scale)
    if layer.bias is None:
        layer.bias = nn.Parameter(layer.weight.new_zeros(1))
    layer.bias.data.mul_(scale).add_(bias)


def expected_calibration_error(labels: np.ndarray, probs: np.ndarray, bins: int = BINS) -> float:
    """Sum over equal-width bins of P(glasses) of |share of glasses - mean P(glasses)|, weighted by the bin's
    share of faces: 0 is perfectly calibrated. It measures the glasses class's probability, the one glasses
    reports (Guo et al. bin the top label's confidence instead). 0 for no faces, like every empty sum."""
    labels, probs = np.asarray(labels, np.float64), np.clip(np.asarray(probs, np.float64), 0, 1)
    if len(labels) == 0:
        return 0.0
    which = np.minimum((probs * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(labels[in_bin].mean() - probs[in_bin].mean())
    return round(float(error), 4)
