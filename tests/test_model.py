"""The classifiers' inference form must compute what the trained network computes, and a model file must
rebuild the network it was saved from."""
import pytest
import torch

from training.lite_net import LiteNet
from training.glasses_net import GlassesNet
from training.model_file import build_model, load_model, save_model


def with_batchnorm_statistics(model: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial BatchNorm statistics, as training leaves them."""
    torch.manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    return model.eval()


@pytest.mark.parametrize("model", [GlassesNet(), LiteNet(depth=4)], ids=["GlassesNet", "LiteNet"])
def test_folding_batchnorm_keeps_the_outputs(model):
    model = with_batchnorm_statistics(model)
    images = torch.rand(4, 3, 96, 96)
    with torch.no_grad():
        before = model(images)
        after = model.fold_batchnorm()(images)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert torch.allclose(before, after, atol=1e-4)


@pytest.mark.parametrize("model", [GlassesNet(widths=(8, 16, 24)), LiteNet(depth=3)], ids=["GlassesNet", "LiteNet"])
def test_a_model_file_rebuilds_its_architecture(model, tmp_path):
    model = with_batchnorm_statistics(model)
    save_model(model, tmp_path / "m.pt", 64, 0.25, 0.7)
    loaded, config = load_model(tmp_path / "m.pt")
    assert type(loaded) is type(model) and config["threshold"] == 0.7 and config["input_size"] == 64
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(images), model(images), atol=1e-4)


def test_files_from_before_the_architecture_field_are_glassesnet():
    assert isinstance(build_model({"widths": [8, 16]}), GlassesNet)
    with pytest.raises(ValueError, match="unknown architecture 'ResNet'"):
        build_model({"architecture": "ResNet"})
