"""The classifier runs on onnxruntime from the ONNX export; a .pt is run only through the export made from it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from glasses.runtime import load_classifier
from glasses.weights import ModelFileError
from tests.model_files import write_model
from training.glasses_net import GlassesNet
from training.model_file import TorchClassifier, load_model, save_model

SIZE, WIDTHS = 32, (8, 16, 24)


def network(seed: int) -> GlassesNet:
    torch.manual_seed(seed)
    return GlassesNet(widths=WIDTHS)


@pytest.fixture
def exported(tmp_path):
    return write_model(tmp_path / "glasses.pt", network(0), input_size=SIZE, crop_margin=0.4, threshold=0.6)


def test_the_export_agrees_with_torch_and_carries_its_config(exported):
    classifier = load_classifier(exported, threads=1)
    torch_classifier = TorchClassifier(load_model(exported.with_suffix(".pt"))[0])
    batch = np.random.default_rng(1).random((5, 3, SIZE, SIZE), dtype=np.float32)
    np.testing.assert_allclose(classifier(batch), torch_classifier(batch), atol=1e-5)
    assert (classifier.config["input_size"], classifier.config["crop_margin"], classifier.config["threshold"]) \
        == (SIZE, 0.4, 0.6)
    # its threads stop after each run instead of spinning through the next photo's face detection
    options = classifier.session.get_session_options()
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"


def test_a_pt_file_runs_through_its_own_export(exported):
    assert load_classifier(exported.with_suffix(".pt"), threads=1).path == exported


def test_an_export_of_other_weights_is_never_used(exported):
    save_model(network(1), exported.with_suffix(".pt"), SIZE, 0.4, 0.6)  # retrained, not yet re-exported
    with pytest.raises(ModelFileError, match="exported from other weights.*python -m training.export"):
        load_classifier(exported.with_suffix(".pt"), threads=1)


def test_a_pt_file_without_an_export_says_how_to_make_one(tmp_path):
    weights = tmp_path / "glasses.pt"
    save_model(network(0), weights, SIZE, 0.25, 0.5)
    with pytest.raises(ModelFileError, match="no glasses.onnx beside it.*python -m training.export"):
        load_classifier(weights, threads=1)


def test_an_onnx_file_without_glasses_config_is_refused(tmp_path):
    from glasses.blazeface import WEIGHTS_DIR
    with pytest.raises(ModelFileError, match="not a glasses model file"):
        load_classifier(WEIGHTS_DIR / "blazeface_short.onnx", threads=1)


@pytest.mark.parametrize(("device", "backend", "message"), [
    ("cpu", "torch", "is not available.*onnxruntime"),
    ("tpu", "auto", "not available.*CPU.*cuda"),
    ("cpu", "tensorrt", "backend must be one of"),
])
def test_devices_and_backends_glasses_no_longer_has_are_refused_with_what_to_do(exported, device, backend, message):
    with pytest.raises(ValueError, match=message):
        load_classifier(exported, threads=1, device=device, backend=backend)
