"""Train GlassesNet on face crops of the manifest, pick the threshold on validation, ship it to weights/.

    python -m training.train --data ../shared/data --epochs 20

Steps, in order: manifest -> cached face crops (same detector and crop as inference) -> train with
augmentations for real photos, checkpointing every epoch (--resume continues) -> keep the epoch with the best
validation ROC-AUC -> threshold that maximises validation F1 -> metrics per source on the test split, which
chooses nothing -> weights/glasses.pt and its model card.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm import tqdm

from glasses.crop import DEFAULT_MARGIN
from glasses.model import GlassesNet
from glasses.weights import save_model
from training import crops as crop_cache
from training.metrics import best_f1_threshold, summarize
from training.model_card import write_model_card
from training.sources import IMPORTERS, build_manifest, read_manifest

WIDTHS = (24, 48, 96, 160, 256)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="folder the paths are under")
    parser.add_argument("--manifest", type=Path, help="manifest CSV (default: built from --data by the importers)")
    parser.add_argument("--sources", nargs="+", default=list(IMPORTERS), choices=list(IMPORTERS))
    parser.add_argument("--limit", type=int, help="use at most this many rows per source and split (smoke runs)")
    parser.add_argument("--size", type=int, default=96, help="face crop side in pixels")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes for face detection")
    parser.add_argument("--cache-dir", type=Path, default=crop_cache.DEFAULT_CACHE_DIR, help="face crop cache")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/latest"), help="checkpoints and logs")
    parser.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    parser.add_argument("--out", type=Path, default=Path("weights"), help="where the model and its card go")
    return parser.parse_args(argv)


def augmentations() -> v2.Compose:
    """What real photos vary in: pose, lighting, colour or none, focus, compression, things in front."""
    return v2.Compose([
        v2.RandomHorizontalFlip(),
        v2.RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.9, 1.1)),
        v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.3, hue=0.03),
        v2.RandomGrayscale(p=0.2),
        v2.RandomApply([v2.GaussianBlur(5, sigma=(0.1, 1.5))], p=0.2),
        v2.RandomApply([v2.JPEG(quality=(30, 90))], p=0.3),
        v2.ToDtype(torch.float32, scale=True),
        v2.RandomErasing(p=0.2, scale=(0.02, 0.08)),
    ])


class CropDataset(Dataset):
    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None):
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2)  # uint8 NCHW, shared, not copied
        self.labels = torch.from_numpy(labels.astype(np.float32))
        self.transform = transform or v2.ToDtype(torch.float32, scale=True)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(self.images[i]), self.labels[i]


def select(rows: list[dict], limit: int | None) -> list[dict]:
    if limit is None:
        return rows
    taken = Counter()
    chosen = []
    for row in rows:
        key = (row["source"], row["split"], row["label"])
        if taken[key] < (limit + 1) // 2:
            taken[key] += 1
            chosen.append(row)
    return chosen


def predict(model: nn.Module, dataset: CropDataset, batch_size: int) -> np.ndarray:
    model.eval()
    probs = []
    with torch.inference_mode():
        for images, _ in DataLoader(dataset, batch_size=batch_size):
            probs.append(torch.sigmoid(model(images)))
    return torch.cat(probs).numpy() if probs else np.zeros(0, np.float32)


def main(argv=None) -> int:
    args = parse_args(argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.run_dir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. Manifest and face crops.
    rows = read_manifest(args.manifest) if args.manifest else build_manifest(args.data, args.sources)
    rows = select([row for row in rows if row["source"] in args.sources], args.limit)
    crops = crop_cache.load_or_build(rows, args.data, args.size, DEFAULT_MARGIN, workers=args.workers,
                                      cache_dir=args.cache_dir)
    labels = np.array([row["label"] for row in rows])
    splits = np.array([row["split"] for row in rows])
    sources = np.array([row["source"] for row in rows])
    detection = {src: dict(Counter(crops.status[sources == src].tolist())) for src in sorted(set(sources))}
    print("face detection per source:", json.dumps(detection), flush=True)

    def part(split: str, transform=None) -> CropDataset:
        keep = (splits == split) & crops.found
        return CropDataset(crops.images[keep], labels[keep], transform)

    train_set, val_set, test_set = part("train", augmentations()), part("val"), part("test")

    # 2. Model, loss weighted against the class imbalance, optimiser, schedule.
    model = GlassesNet(widths=WIDTHS)
    positives = float(train_set.labels.sum())
    pos_weight = torch.tensor(((len(train_set) - positives) / max(positives, 1.0)) ** 0.5)
    criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    steps_per_epoch = max(1, -(-len(train_set) // args.batch_size))
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=args.epochs * steps_per_epoch)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed))
    history, best = [], {"val_auc": -1.0, "epoch": -1, "state": None}
    start_epoch = 0
    last = args.run_dir / "last.pt"
    if args.resume and last.exists():
        state = torch.load(last, weights_only=False)
        if state["epochs"] != args.epochs:
            sys.exit(f"{last} belongs to a run of --epochs {state['epochs']}; resume it with the same --epochs")
        for obj, key in ((model, "model"), (optimizer, "optimizer"), (scheduler, "scheduler")):
            obj.load_state_dict(state[key])
        history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
        torch.set_rng_state(state["rng"])
        print(f"resumed from {last} after epoch {state['epoch']}", flush=True)

    # 3. Train; evaluate on validation each epoch; checkpoint.
    for epoch in range(start_epoch, args.epochs):
        model.train()
        started, total_loss = time.time(), 0.0
        for images, targets in tqdm(loader, desc=f"epoch {epoch}", leave=False):
            loss = criterion(model(images), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(targets)
        val_probs = predict(model, val_set, args.batch_size)
        val_labels = val_set.labels.numpy()
        val_summary = summarize(val_labels, val_probs, 0.5)
        val_auc = val_summary["roc_auc"] or 0.0
        record = {"epoch": epoch, "loss": round(total_loss / max(len(train_set), 1), 4), "val_auc": val_auc,
                  "val_f1_at_0.5": val_summary["f1"],
                  "seconds": round(time.time() - started, 1)}
        history.append(record)
        print(json.dumps(record), flush=True)
        if val_auc > best["val_auc"]:
            best = {"val_auc": val_auc, "epoch": epoch,
                    "state": {k: v.clone() for k, v in model.state_dict().items()}}
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "history": history, "best": best, "epoch": epoch,
                    "epochs": args.epochs, "rng": torch.get_rng_state()}, last)

    # 4. Best epoch, threshold from validation, metrics on the untouched test split.
    model.load_state_dict(best["state"])
    val_probs = predict(model, val_set, args.batch_size)
    threshold = round(best_f1_threshold(val_set.labels.numpy(), val_probs), 4)
    test_probs = predict(model, test_set, args.batch_size)
    test_labels, test_sources = test_set.labels.numpy().astype(int), sources[(splits == "test") & crops.found]
    test = {"all": summarize(test_labels, test_probs, threshold)}
    for src in sorted(set(test_sources)):
        chosen = test_sources == src
        test[src] = summarize(test_labels[chosen], test_probs[chosen], threshold)
    for src in test:
        in_split = (splits == "test") & ((sources == src) if src != "all" else True)
        test[src]["not_detected"] = int((in_split & ~crops.found).sum())

    # 5. Ship: model file and card.
    weights_path = args.out / "glasses.pt"
    save_model(model, weights_path, args.size, DEFAULT_MARGIN, threshold, WIDTHS)
    write_model_card(args.out, {
        "model": {"file": weights_path.name, "architecture": "GlassesNet", "widths": list(WIDTHS),
                  "parameters": sum(p.numel() for p in model.parameters()),
                  "size_bytes": weights_path.stat().st_size, "input_size": args.size,
                  "crop_margin": DEFAULT_MARGIN},
        "threshold": threshold,
        "threshold_rule": "maximises F1 of the glasses class on the validation split",
        "best_epoch": best["epoch"],
        "data": {"sources": sorted(set(sources)),
                 "rows_per_split": {s: int((splits == s).sum()) for s in ("train", "val", "test")},
                 "face_detection": detection},
        "test_metrics": test,
        "validation_roc_auc": best["val_auc"],
        "history": history,
        "command": "python -m training.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "environment": {"python": platform.python_version(), "torch": torch.__version__},
    })
    print(json.dumps({"threshold": threshold, "test": test}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
