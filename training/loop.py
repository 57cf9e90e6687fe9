"""One training loop for every model we train (student, teacher, k-fold folds), single process or
DistributedDataParallel under `torchrun`.

Loss: binary cross-entropy against the hard label, weighted against the class imbalance, mixed with
cross-entropy against a teacher's probability when one is given (knowledge distillation). The epoch with
the best validation ROC-AUC is kept: AUC does not depend on a threshold, which is chosen afterwards.
Every epoch is checkpointed to `run_dir/last.pt`; `resume=True` continues from it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from training.data import CropDataset, TrainingSetupError
from training.metrics import summarize


@dataclass
class FitResult:
    best_state: dict
    best_epoch: int
    best_val_auc: float
    history: list[dict]


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def imbalance_weight(labels: torch.Tensor) -> torch.Tensor:
    """sqrt(negatives / positives): lifts the rare glasses class without the over-correction (and the
    over-eager threshold) of the full ratio."""
    positives = float(labels.sum())
    return torch.tensor(((len(labels) - positives) / max(positives, 1.0)) ** 0.5)


def loss_fn(logits, labels, soft, pos_weight, distill_weight: float):
    hard = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight)
    if not distill_weight:
        return hard
    return (1 - distill_weight) * hard + distill_weight * F.binary_cross_entropy_with_logits(logits, soft)


def predict(model: nn.Module, dataset: CropDataset, batch_size: int = 256, device: str = "cpu") -> np.ndarray:
    """P(glasses) for every item, in order, without augmentation."""
    model.eval()
    probs = []
    with torch.inference_mode():
        for images, _, _ in DataLoader(dataset, batch_size=batch_size):
            probs.append(torch.sigmoid(model(images.to(device))).cpu())
    return torch.cat(probs).numpy() if probs else np.zeros(0, np.float32)


def fit(model: nn.Module, train_set: CropDataset, val_set: CropDataset, *, epochs: int, batch_size: int,
        lr: float, seed: int, run_dir: Path, resume: bool = False, distill_weight: float = 0.0,
        device: str = "cpu", desc: str = "") -> FitResult:
    """Train `model` in place and return the best epoch's weights. Under torchrun each process trains on
    its shard of every epoch; process 0 alone evaluates, checkpoints and logs. Resuming from the checkpoint of
    a run with other --epochs raises TrainingSetupError."""
    distributed = dist.is_available() and dist.is_initialized()
    model.to(device)
    pos_weight = imbalance_weight(train_set.labels).to(device)
    sampler = DistributedSampler(train_set, shuffle=True, seed=seed) if distributed else None
    shuffle_order = torch.Generator()
    loader = DataLoader(train_set, batch_size=batch_size, shuffle=sampler is None, sampler=sampler,
                        generator=shuffle_order)
    net = DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=epochs * max(1, len(loader)))
    history, best = [], {"val_auc": -1.0, "epoch": -1, "state": None}
    start_epoch = 0
    run_dir.mkdir(parents=True, exist_ok=True)
    last = run_dir / "last.pt"
    if resume and last.exists():
        state = torch.load(last, map_location=device, weights_only=False)
        if state["epochs"] != epochs:
            raise TrainingSetupError(f"{last} belongs to a run of --epochs {state['epochs']}; resume it with the "
                                     f"same --epochs")
        for obj, key in ((model, "model"), (optimizer, "optimizer"), (scheduler, "scheduler")):
            obj.load_state_dict(state[key])
        history, best, start_epoch = state["history"], state["best"], state["epoch"] + 1
        torch.set_rng_state(state["rng"])
        if rank() == 0:
            print(f"resumed from {last} after epoch {state['epoch']}", flush=True)

    for epoch in range(start_epoch, epochs):
        shuffle_order.manual_seed(seed + epoch)  # the same order whether or not the run was resumed
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        started, total_loss, seen = time.time(), 0.0, 0
        for images, labels, soft in tqdm(loader, desc=f"{desc}epoch {epoch}", leave=False, disable=rank() != 0):
            images, labels, soft = images.to(device), labels.to(device), soft.to(device)
            loss = loss_fn(net(images), labels, soft, pos_weight, distill_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(labels)
            seen += len(labels)
        if rank() != 0:
            continue
        val_probs = predict(model, val_set, device=device)
        val_labels = val_set.labels.numpy().astype(int)
        val = summarize(val_labels, val_probs, 0.5)
        val_loss = float(F.binary_cross_entropy(torch.from_numpy(val_probs).clamp(1e-7, 1 - 1e-7),
                                                val_set.labels)) if len(val_set) else float("nan")
        record = {"epoch": epoch, "loss": round(total_loss / max(seen, 1), 4), "val_loss": round(val_loss, 4),
                  "val_auc": val["roc_auc"] or 0.0, "val_f1": val["f1"],
                  "seconds": round(time.time() - started, 1)}
        history.append(record)
        print(desc + json.dumps(record), flush=True)
        if record["val_auc"] > best["val_auc"]:
            best = {"val_auc": record["val_auc"], "epoch": epoch,
                    "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "history": history, "best": best, "epoch": epoch,
                    "epochs": epochs, "rng": torch.get_rng_state()}, last)
    return FitResult(best["state"], best["epoch"], best["val_auc"], history)
