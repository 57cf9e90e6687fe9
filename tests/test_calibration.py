"""Platt scaling folded into the network, and the expected calibration error that measures it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from glasses.mirror import sigmoid
from training.calibration import CalibrationError, expected_calibration_error, fit_platt, fold_into_head
from training.glasses_net import GlassesNet
from training.lite_net import LiteNet


def over_confident(n: int = 20000, seed: int = 0):
    """Logits of a model three times too sure of itself, shifted: the labels follow sigmoid(z / 3 - 1)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 6, n)
    labels = (rng.random(n) < sigmoid(z / 3 - 1)).astype(int)
    return z, labels


def test_platt_scaling_recovers_the_true_scale_and_bias_and_lowers_the_error():
    z, labels = over_confident()
    scale, bias = fit_platt(z, labels)
    assert scale == pytest.approx(1 / 3, abs=0.03) and bias == pytest.approx(-1, abs=0.1)
    before, after = expected_calibration_error(labels, sigmoid(z)), expected_calibration_error(labels, sigmoid(scale * z + bias))
    assert before > 0.1 and after < 0.02


def test_separable_validation_faces_give_a_bounded_scale():
    """Every glasses face above every other: without Platt's smoothed targets the fit has no finite optimum."""
    z = np.r_[np.linspace(-5, -1, 200), np.linspace(1, 5, 20)]
    labels = np.r_[np.zeros(200), np.ones(20)]
    scale, bias = fit_platt(z, labels)
    assert 0 < scale < 5
    assert sigmoid(scale * 5 + bias) < 0.9995 and sigmoid(scale * -5 + bias) > 1e-5


def test_the_error_is_zero_for_matching_shares_and_the_gap_otherwise():
    labels = np.array([1, 0, 0, 0] * 25 + [1] * 100)
    probs = np.array([0.25] * 100 + [1.0] * 100)
    assert expected_calibration_error(labels, probs) == 0
    assert expected_calibration_error(labels, np.full(200, 0.5)) == pytest.approx(abs(labels.mean() - 0.5))
    assert expected_calibration_error(np.zeros(0), np.zeros(0)) == 0


def test_one_label_or_a_backwards_ranking_is_refused_in_words():
    with pytest.raises(CalibrationError, match="both labels"):
        fit_platt(np.array([1.0, 2.0]), np.array([1, 1]))
    z, labels = over_confident(2000)
    with pytest.raises(CalibrationError, match="backwards"):
        fit_platt(-z, labels)


@pytest.mark.parametrize("model", [GlassesNet(), LiteNet(depth=3)], ids=["GlassesNet", "LiteNet"])
def test_folding_into_the_head_makes_the_network_output_the_calibrated_logit(model):
    model.eval()
    batch = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        before = model(batch).flatten()
        fold_into_head(model, 0.4, -1.5)
        after = model(batch).flatten()
    torch.testing.assert_close(after, 0.4 * before - 1.5, rtol=1e-4, atol=1e-4)


def test_a_network_without_a_one_output_linear_head_is_refused():
    with pytest.raises(CalibrationError, match="Sequential"):
        fold_into_head(torch.nn.Sequential(torch.nn.Linear(3, 2)), 1.0, 0.0)
