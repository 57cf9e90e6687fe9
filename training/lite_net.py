"""LiteNet: the first blocks of EfficientNet-Lite0 and one logit of P(glasses) for a face crop.

A network trained from scratch on CelebA's few thousand glasses learns them slowly; these blocks start from
ImageNet (or from the fine-tuned teacher, training/teacher.py) and learn them in a few epochs. Cut after the
11th block, it keeps the stride-16 features that resolve frames around the eyes, in under 3 MB.
Blocks are MobileNetV2's inverted residuals with ReLU6 and no squeeze-excitation, as in Lite0; module names
follow efficientnet-lite-pytorch so that its weights load by name. Input as GlassesNet: RGB in 0..1.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import relu6
from torch.nn.utils.fusion import fuse_conv_bn_eval

from training.glasses_net import IMAGENET_MEAN, IMAGENET_STD

# EfficientNet-Lite0's 16 blocks: (in channels, out channels, expansion, kernel, stride)
LITE0_BLOCKS = [(32, 16, 1, 3, 1), (16, 24, 6, 3, 2), (24, 24, 6, 3, 1), (24, 40, 6, 5, 2), (40, 40, 6, 5, 1),
                (40, 80, 6, 3, 2), (80, 80, 6, 3, 1), (80, 80, 6, 3, 1), (80, 112, 6, 5, 1), (112, 112, 6, 5, 1),
                (112, 112, 6, 5, 1), (112, 192, 6, 5, 2), (192, 192, 6, 5, 1), (192, 192, 6, 5, 1),
                (192, 192, 6, 5, 1), (192, 320, 6, 3, 1)]
BN_EPS = 1e-3   # Lite0's (TensorFlow's), which its pretrained statistics expect


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise k x k, 1x1 project; the input is added back where shapes allow."""

    def __init__(self, inp: int, out: int, expand: int, kernel: int, stride: int):
        super().__init__()
        mid = inp * expand
        self._expand_conv = nn.Conv2d(inp, mid, 1, bias=False) if expand != 1 else nn.Identity()
        self._bn0 = _bn(mid) if expand != 1 else nn.Identity()
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out, 1, bias=False)
        self._bn2 = _bn(out)
        self.expands = expand != 1
        self.residual = stride == 1 and inp == out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = relu6(self._bn0(self._expand_conv(x))) if self.expands else x
        y = relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y

    def conv_bn_pairs(self) -> list[tuple[str, str]]:
        pairs = [("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2")]
        return [("_expand_conv", "_bn0"), *pairs] if self.expands else pairs


class LiteNet(nn.Module):
    def __init__(self, depth: int = 11, dropout: float = 0.2):
        super().__init__()
        if not 1 <= depth <= len(LITE0_BLOCKS):
            raise ValueError(f"depth must be 1..{len(LITE0_BLOCKS)}, got {depth}")
        self.depth = depth
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
        self._bn0 = _bn(32)
        self._blocks = nn.ModuleList(MBConv(*LITE0_BLOCKS[i]) for i in range(depth))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(LITE0_BLOCKS[depth - 1][1], 1))

    def config(self) -> dict:
        """What the model file records to build this network again (glasses/weights.py)."""
        return {"architecture": "LiteNet", "depth": self.depth}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of P(glasses), shape (N,)."""
        x = relu6(self._bn0(self._conv_stem((x - self.mean) / self.std)))
        for block in self._blocks:
            x = block(x)
        return self.head(x).squeeze(1)

    def fold_batchnorm(self) -> "LiteNet":
        """For inference only: fold each BatchNorm into the convolution before it (same outputs, less time)."""
        for module, pairs in [(self, [("_conv_stem", "_bn0")]), *((b, b.conv_bn_pairs()) for b in self._blocks)]:
            for conv, bn in pairs:
                setattr(module, conv, fuse_conv_bn_eval(getattr(module, conv).eval(), getattr(module, bn).eval()))
                setattr(module, bn, nn.Identity())
        return self
