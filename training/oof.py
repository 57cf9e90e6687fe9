"""k-fold out-of-fold predictions: every row's P(glasses) from a model that never saw that row's person.

    python -m training.oof --data ../shared/data --folds 4 --epochs 5 --out runs/oof/manifest.csv
    python -m training.oof ... --architecture LiteNet --lr 1e-3     # folds started from ImageNet's Lite0

The output is the manifest with a `pred_prob` column (empty where no face was found). The relabel workflow
ranks suspect labels with it: a label that a model trained without it disagrees with is worth a look.
Folds are grouped by person (`group`) and stratified by label, over all splits, so test labels get checked
too. Each fold's model is the one after its last epoch: the held-out fold's labels choose nothing. A fold model
never starts from the teacher (training/teacher.py), which was trained on every label, the held-out ones too.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import StratifiedGroupKFold

from glasses.errors import GlassesError
from glasses.manifest import write_manifest
from glasses.labels import DEFAULT_ATTRIBUTE
from training.data import add_data_arguments, augmentations, prepare
from training.loop import fit, predict
from training.metrics import summarize
from training.train import add_student_arguments, build_student


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=5, help="per fold")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    add_student_arguments(parser)
    parser.add_argument("--run-dir", type=Path, default=Path("runs/oof"), help="per-fold checkpoints")
    parser.add_argument("--out", type=Path, default=Path("runs/oof/manifest.csv"), help="manifest + pred_prob")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Exits with the reason, instead of a traceback, when an input cannot be used (a GlassesError)."""
    args = parse_args(argv)
    try:
        return run(args)
    except GlassesError as err:
        sys.exit(str(err))


def run(args: argparse.Namespace) -> int:
    """The folds of `args`, and the manifest with their out-of-fold pred_prob."""
    torch.manual_seed(args.seed)
    data = prepare(args.data, args.manifest, args.sources, args.limit, args.size, args.workers,
                   args.cache_dir, args.attribute)
    found = np.flatnonzero(data.crops.found)
    labels, groups = data.labels[found], data.column("group")[found]
    groups = np.char.add(data.column("source")[found].astype(str), np.char.add("/", groups.astype(str)))
    pred = np.full(len(data.rows), np.nan)
    folds = StratifiedGroupKFold(args.folds, shuffle=True, random_state=args.seed)
    report = []
    for k, (train_idx, held_idx) in enumerate(folds.split(found, labels, groups)):
        train_mask, held_mask = np.zeros(len(data.rows), bool), np.zeros(len(data.rows), bool)
        train_mask[found[train_idx]], held_mask[found[held_idx]] = True, True
        held_set = data.dataset(held_mask)
        model = build_student(args)
        result = fit(model, data.dataset(train_mask, augmentations()), held_set, epochs=args.epochs,
                     batch_size=args.batch_size, lr=args.lr, seed=args.seed + k, run_dir=args.run_dir / f"fold{k}",
                     device=args.device, desc=f"fold {k} ")
        pred[held_mask] = predict(model, held_set, device=args.device)  # last epoch: no held-out choice
        report.append({"fold": k, "rows": int(held_mask.sum()), "history": result.history})
    oof = summarize(data.labels[found], pred[found], 0.5)
    # A manifest of another attribute than glasses says so, for the relabel workflow to name what it reviews.
    named = {"attribute": data.attribute} if data.attribute != DEFAULT_ATTRIBUTE else {}
    rows = [dict(row, pred_prob="" if np.isnan(p) else round(float(p), 5), **named)
            for row, p in zip(data.rows, pred)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(rows, args.out)
    summary = {"out_of_fold_at_0.5": oof, "not_detected": int(len(data.rows) - len(found)), "folds": report}
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({"out": str(args.out), "out_of_fold_at_0.5": oof}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
