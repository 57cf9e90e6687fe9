"""GlassesNet's inference form must compute what the trained network computes."""
import torch

from glasses.model import GlassesNet


def test_folding_batchnorm_keeps_the_outputs():
    torch.manual_seed(0)
    model = GlassesNet()
    with torch.no_grad():   # give BatchNorm non-trivial statistics, as training does
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    model.eval()
    images = torch.rand(4, 3, 96, 96)
    with torch.no_grad():
        before = model(images)
        after = model.fold_batchnorm()(images)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert torch.allclose(before, after, atol=1e-4)
