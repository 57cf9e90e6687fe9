"""GlassesNet: a small depthwise-separable CNN that gives P(glasses) for one face crop.

Glasses are a local, high-contrast pattern around the eyes, so a narrow network with an early stride
resolves them; the whole model is a few hundred kilobytes and runs in about a millisecond on a CPU core.
Input: float RGB in 0..1, shape (N, 3, S, S); the normalisation lives inside the model so exported copies
(TorchScript, ONNX) need no preprocessing beyond the crop.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


def _separable(in_ch: int, out_ch: int, stride: int) -> nn.Sequential:
    return nn.Sequential(_conv_bn(in_ch, in_ch, 3, stride, groups=in_ch), _conv_bn(in_ch, out_ch, 1, 1))


class GlassesNet(nn.Module):
    def __init__(self, widths: tuple[int, ...] = (24, 48, 96, 160, 256), dropout: float = 0.2):
        super().__init__()
        self.widths = tuple(widths)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        layers = [_conv_bn(3, widths[0], 3, 2)]
        for in_ch, out_ch in zip(widths, widths[1:]):
            layers += [_separable(in_ch, out_ch, 2), _separable(out_ch, out_ch, 1)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(widths[-1], 1))

    def config(self) -> dict:
        """What the model file records to build this network again (glasses/weights.py)."""
        return {"architecture": "GlassesNet", "widths": list(self.widths)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of P(glasses), shape (N,)."""
        return self.head(self.features((x - self.mean) / self.std)).squeeze(1)

    def fold_batchnorm(self) -> "GlassesNet":
        """For inference only: fold each BatchNorm into the convolution before it. Same outputs, about a fifth
        less time per face, because this small network's cost is mostly per-layer overhead."""
        for block in self.modules():
            if isinstance(block, nn.Sequential) and len(block) == 3 and isinstance(block[1], nn.BatchNorm2d):
                block[0] = fuse_conv_bn_eval(block[0].eval(), block[1].eval())
                block[1] = nn.Identity()
        return self
