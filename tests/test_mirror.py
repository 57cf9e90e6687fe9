"""Mirror averaging near the threshold (glasses/mirror.py): the labels of averaging every face, for fewer passes."""
import math

import numpy as np
import pytest
import torch

from glasses.mirror import EVERY_FACE, NO_FACE, glasses_probs, logit, mirror_band, near_threshold, sigmoid
from training.glasses_net import GlassesNet
from training.model_file import TorchClassifier
from training.model_file import load_model, save_model
from tests.test_model import with_batchnorm_statistics


class LeftPixel:
    """A stand-in network whose logit is 20 x (the top-left value) - 10, so its mirror image's logit is set by
    the top-right value; it records the batch size of every call."""

    def __init__(self):
        self.calls: list[int] = []

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(len(batch))
        return 20 * batch[:, 0, 0, 0].astype(np.float64) - 10


def faces(*lefts: float, right: float = 0.5) -> np.ndarray:
    batch = np.full((len(lefts), 3, 1, 2), right, np.float32)
    batch[:, :, 0, 0] = np.array(lefts)[:, None]
    return batch


def test_only_faces_near_the_threshold_take_the_mirror_pass():
    net = LeftPixel()   # logits -8, 0.1 and 8; every mirror image's logit is 0
    probs = glasses_probs(net, faces(0.1, 0.505, 0.9), threshold=0.5, band=1.0)
    assert net.calls == [3, 1]
    np.testing.assert_allclose(probs, sigmoid(np.array([-8.0, 0.05, 8.0])), rtol=1e-5)


def test_every_face_or_none_as_the_file_says():
    net = LeftPixel()
    np.testing.assert_allclose(glasses_probs(net, faces(0.1, 0.9), 0.5, EVERY_FACE), sigmoid([-4.0, 4.0]), rtol=1e-5)
    assert net.calls == [2, 2]
    net.calls.clear()
    np.testing.assert_allclose(glasses_probs(net, faces(0.1, 0.505), 0.5, NO_FACE), sigmoid([-8.0, 0.1]), rtol=1e-5)
    assert net.calls == [2]


@pytest.mark.parametrize("threshold", [0.0, 0.02, 0.5, 0.8281, 1.0])
def test_outside_the_measured_band_the_mirror_pass_would_not_change_a_label(threshold):
    rng = np.random.default_rng(0)
    single = rng.normal(0, 6, 5000)
    mirror = single + rng.normal(0, 1.5, 5000)
    band = mirror_band(single, mirror)
    averaged = (single + mirror) / 2
    shipped = np.where(near_threshold(single, threshold, band), averaged, single)
    np.testing.assert_array_equal(sigmoid(shipped) >= threshold, sigmoid(averaged) >= threshold)


def test_the_band_is_the_most_averaging_moved_a_logit_rounded_up():
    assert mirror_band(np.array([0.0, 1.0]), np.array([3.0, 1.0])) == 1.5
    assert mirror_band(np.array([0.123]), np.array([0.0])) == 0.07
    assert math.isfinite(logit(0.0)) and math.isfinite(logit(1.0))


def test_a_model_file_says_which_faces_are_averaged(tmp_path):
    model = with_batchnorm_statistics(GlassesNet(widths=(8, 16, 24)))
    save_model(model, tmp_path / "plain.pt", 64, 0.25, 0.5)
    save_model(model, tmp_path / "near.pt", 64, 0.25, 0.5, mirror_average=True, mirror_band=2.5)
    save_model(model, tmp_path / "all.pt", 64, 0.25, 0.5, mirror_average=True)
    assert [load_model(tmp_path / f"{name}.pt")[1]["mirror_band"] for name in ("plain", "near", "all")] \
        == [NO_FACE, 2.5, EVERY_FACE]
    older = torch.load(tmp_path / "all.pt", weights_only=True)   # files from before the band: every face
    del older["config"]["mirror_band"]
    torch.save(older, tmp_path / "older.pt")
    assert load_model(tmp_path / "older.pt")[1]["mirror_band"] == EVERY_FACE


def test_averaging_every_face_is_blind_to_left_and_right():
    model = with_batchnorm_statistics(GlassesNet(widths=(8, 16, 24)))
    images = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        both = torch.sigmoid((model(images) + model(images.flip(3))) / 2).numpy()
    classifier = TorchClassifier(model, "cpu")
    np.testing.assert_allclose(glasses_probs(classifier, images.numpy(), 0.5, EVERY_FACE), both, atol=1e-5)
    np.testing.assert_allclose(glasses_probs(classifier, images.flip(3).numpy(), 0.5, EVERY_FACE), both, atol=1e-5)


@pytest.mark.parametrize("threshold, passes", [(None, [1]), (0.1, [1, 1])])
def test_the_predictor_runs_the_mirror_pass_near_its_own_threshold(threshold, passes):
    """A face whose first logit is -3.0: beyond the shipped band from the shipped threshold's logit (0.2334: 1.81
    from it, band 1.64); but within it from that of a user's threshold of 0.1 (0.8)."""
    from PIL import Image

    from glasses import Predictor

    predictor = Predictor(threshold=threshold)
    shipped = Predictor()
    assert abs(-3.0 - logit(shipped.threshold)) > shipped.mirror_band > abs(-3.0 - logit(0.1))
    predictor.classifier = LeftPixel()
    crop = Image.new("RGB", (predictor.input_size, predictor.input_size), (128, 128, 128))
    crop.putpixel((0, 0), (89, 89, 89))
    predictor.classify([crop])
    assert predictor.classifier.calls == passes
