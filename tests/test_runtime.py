"""The classifier runs on onnxruntime only where the export beside the weights was made from exactly them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import training.export as export
from glasses.model import GlassesNet
from glasses.runtime import load_classifier
from glasses.weights import save_model

SIZE, WIDTHS = 32, (8, 16, 24)
pytestmark = pytest.mark.filterwarnings("ignore:`torch\\.jit\\..*deprecated:FutureWarning")


def write_weights(path, seed: int):
    torch.manual_seed(seed)
    save_model(GlassesNet(widths=WIDTHS), path, SIZE, 0.25, 0.5)
    return path


@pytest.fixture
def exported(tmp_path):
    weights = write_weights(tmp_path / "glasses.pt", seed=0)
    assert export.main(["--weights", str(weights), "--out", str(tmp_path), "--runs", "3", "--threads", "1"]) == 0
    return weights


def test_auto_runs_the_onnx_export_and_it_agrees_with_torch(exported):
    onnx_classifier, config = load_classifier(exported)
    torch_classifier, _ = load_classifier(exported, backend="torch")
    assert (onnx_classifier.name, torch_classifier.name) == ("onnx", "torch")
    batch = np.random.default_rng(1).random((5, 3, SIZE, SIZE), dtype=np.float32)
    np.testing.assert_allclose(onnx_classifier(batch), torch_classifier(batch), atol=1e-5)
    assert config["input_size"] == SIZE
    # its threads stop after each run instead of spinning through the next photo's face detection
    options = onnx_classifier.session.get_session_options()
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"


def test_an_export_of_other_weights_is_never_used(exported):
    write_weights(exported, seed=1)  # retrained, not yet re-exported
    assert load_classifier(exported)[0].name == "torch"
    with pytest.raises(ValueError, match="exported from other weights"):
        load_classifier(exported, backend="onnx")


def test_onnx_backend_without_an_export_says_why(tmp_path):
    weights = write_weights(tmp_path / "glasses.pt", seed=0)
    assert load_classifier(weights)[0].name == "torch"
    with pytest.raises(ValueError, match="no ONNX export"):
        load_classifier(weights, backend="onnx")
