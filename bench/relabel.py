r"""Does the relabel workflow find wrong labels, and does fixing them give the model back?

    nice -n 19 python bench/relabel.py [--celeba 3000] [--glasses-share S] [--flip 0.05] [--architecture LiteNet] \
        [--oof-epochs 5] [--epochs 3] [--json bench/results/relabel.json] > runs/relabel/bench.log 2>&1 &

1. A clean set: Olivetti, CMU faces and Yale (labels from the publishers' file names and lists), plus
   `--celeba` CelebA-HQ rows drawn at random, as many with glasses as the pool has (8.5%) unless
   `--glasses-share` says otherwise (their labels are mostly right; the few wrong ones compete with the flips
   for the top of the ranking, as real noise would). Drawn at random, most flips give a bare face the glasses
   label, as noise does to a rare class.
2. Flip `--flip` of the train and val rows at random (seeded), among rows whose face is found: training
   only ever sees those, so a flip elsewhere changes nothing. Test rows keep their clean labels, so every F1
   below is measured against the truth.
3. Out-of-fold pred_prob on the flipped manifest (training/oof.py), ranked by relabel.suspects: the recall
   of the flipped rows in the top 2x(flipped), for its self-confidence and, where cleanlab is installed
   (`pip install cleanlab`: no requirements file holds it), for cleanlab's alternative scores.
4. A reviewer who knows the truth works through the top 2x(flipped) in a relabel.session (keep or flip,
   into a fresh SQLite store), and relabel.export writes the corrected manifest.
5. training/train.py on the clean, flipped and corrected manifests, once per `--train-seeds` seed (one run's
   F1 moves with the seed by more than 5% of flips cost): test F1 and ROC-AUC of each, and the mean F1.

Figures print as a table and go to OUT/summary.json and to --json (for bench/tables.py). Face crops come from
the shared cache (.cache/crops).
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import results  # noqa: E402
from glasses.crop import DEFAULT_MARGIN  # noqa: E402
from glasses.manifest import load_manifest, write_manifest  # noqa: E402
from relabel.export import corrected_manifest, write_corrected  # noqa: E402
from relabel.session import ReviewSession  # noqa: E402
from relabel.store import FLIP, KEEP, ReviewStore  # noqa: E402
from relabel.suspects import label_quality, rank_manifest  # noqa: E402
from training import crops as crop_cache  # noqa: E402
from training import oof, train  # noqa: E402
from training.sources import build_manifest  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLEAN_SOURCES = ("olivetti", "cmu_faces", "yalefaces")
# cleanlab's label quality scores, compared with relabel.suspects' self-confidence where cleanlab is installed.
# (cleanlab offers no class adjustment for confidence_weighted_entropy.)
ALTERNATIVES = (("self_confidence", True), ("normalized_margin", False), ("normalized_margin", True),
                ("confidence_weighted_entropy", False))
CROP_SIZE = 96  # training's default --size, so the crop cache is shared


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--celeba", type=int, default=3000, help="CelebA-HQ rows added to the clean sources")
    parser.add_argument("--glasses-share", type=float,
                        help="share of those CelebA-HQ rows with glasses (default: the pool's own, drawn at random)")
    parser.add_argument("--flip", type=float, default=0.05, help="share of train+val labels flipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--architecture", choices=("GlassesNet", "LiteNet"), default="LiteNet",
                        help="for the out-of-fold models and the three trainings (LiteNet: from ImageNet's Lite0)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--oof-epochs", type=int, default=5,
                        help="per fold: 3 found 0.988 of the flips with the augmentations for real photos, 5 found 0.994")
    parser.add_argument("--epochs", type=int, default=3, help="for each training run")
    parser.add_argument("--train-seeds", type=int, nargs="*", default=[0, 1, 2],
                        help="train each manifest once per seed; none (--train-seeds alone): only the ranking "
                             "and the review, 13 of the 41 minutes")
    parser.add_argument("--batch-size", type=int, default=32, help="small: the set is small")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (on 2 shared cores, 2 threads made a training step 4x slower than 1)")
    parser.add_argument("--cache-dir", type=Path, default=crop_cache.DEFAULT_CACHE_DIR)
    parser.add_argument("--out", type=Path, default=Path("runs/relabel"))
    results.add_json_flag(parser, "relabel")
    return parser.parse_args()


def clean_rows(data: Path, celeba: int, glasses_share: float | None, seed: int) -> list[dict]:
    rows = build_manifest(data, CLEAN_SOURCES)
    pool = build_manifest(data, ("celeba_hq",)) if celeba else []
    draw = random.Random(seed)
    if glasses_share is None:
        picked = draw.sample(range(len(pool)), celeba)
    else:
        with_glasses = round(glasses_share * celeba)
        picked = [i for label, count in ((1, with_glasses), (0, celeba - with_glasses))
                  for i in draw.sample([i for i, row in enumerate(pool) if row["label"] == label], count)]
    return rows + [pool[i] for i in sorted(picked)]


def flip_some(rows: list[dict], found, share: float, seed: int) -> tuple[list[dict], set[str]]:
    candidates = [i for i, row in enumerate(rows) if row["split"] in ("train", "val") and found[i]]
    chosen = set(random.Random(seed).sample(candidates, round(share * len(candidates))))
    flipped = [dict(row, label=1 - row["label"]) if i in chosen else dict(row) for i, row in enumerate(rows)]
    return flipped, {rows[i]["path"] for i in chosen}


def recall_at(order: list[str], flipped: set[str], k: int) -> float:
    return len(flipped & set(order[:k])) / len(flipped)


def recall_by_method(manifest, flipped: set[str], top: int) -> dict[str, float]:
    """Recall of the flipped rows in the `top` suspects, by relabel.suspects' self-confidence and, where cleanlab
    is installed, by each of its ALTERNATIVES."""
    scored = [i for i, p in enumerate(manifest.pred_prob) if p == p]
    labels = [manifest.rows[i]["label"] for i in scored]
    probs = [manifest.pred_prob[i] for i in scored]
    methods = {"self_confidence": label_quality(labels, probs)}
    try:
        from cleanlab.rank import get_label_quality_scores
    except ImportError:
        print("cleanlab is not installed: only self-confidence is measured", file=sys.stderr)
    else:
        clipped = np.clip(np.asarray(probs, float), 0.0, 1.0)
        pairs = np.stack([1 - clipped, clipped], 1)
        for method, adjust in ALTERNATIVES:
            methods[f"cleanlab {method}{' adjusted' if adjust else ''}"] = get_label_quality_scores(
                np.asarray(labels, int), pairs, method=method, adjust_pred_probs=adjust)
    recalls = {}
    for name, scores in methods.items():
        order = [manifest.rows[scored[j]]["path"] for j in sorted(range(len(scored)), key=scores.__getitem__)]
        recalls[name] = round(recall_at(order, flipped, top), 4)
    return recalls


def review_like_an_oracle(manifest, ranking, truth: dict[str, int], db: Path, count: int) -> list[float]:
    """Keep or flip the `count` most suspect rows as the clean labels say; returns ms per decision."""
    db.unlink(missing_ok=True)
    session = ReviewSession(manifest, ranking, ReviewStore(db), "oracle")
    latencies = []
    for _ in range(count):
        item = session.current
        started = time.perf_counter()
        session.decide(FLIP if item.label != truth[item.path] else KEEP)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def model_arguments(args, seed: int) -> list[str]:
    """What the out-of-fold run and the trainings share: the network, its optimiser; and a seed."""
    return ["--architecture", args.architecture, "--lr", str(args.lr), "--batch-size", str(args.batch_size),
            "--seed", str(seed)]


def train_and_test(name: str, manifest: Path, args, seed: int) -> dict:
    out = args.out / f"model_{name}_seed{seed}"
    train.main(["--data", str(args.data), "--manifest", str(manifest), "--epochs", str(args.epochs),
                *model_arguments(args, seed), "--cache-dir", str(args.cache_dir),
                "--run-dir", str(args.out / f"train_{name}_seed{seed}"), "--out", str(out)])
    metrics = json.loads((out / "model_card.json").read_text())["test_metrics"]["all"]
    return {key: metrics[key] for key in ("n", "f1", "roc_auc", "precision", "recall")}


def main() -> int:
    args = parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = clean_rows(args.data, args.celeba, args.glasses_share, args.seed)
    found = crop_cache.load_or_build(rows, args.data, CROP_SIZE, DEFAULT_MARGIN, cache_dir=args.cache_dir).found
    flipped_rows, flipped = flip_some(rows, found, args.flip, args.seed)
    truth = {row["path"]: row["label"] for row in rows}
    clean_csv, flipped_csv, oof_csv = (args.out / f"{n}.csv" for n in ("clean", "flipped", "oof"))
    write_manifest(rows, clean_csv)
    write_manifest(flipped_rows, flipped_csv)
    print(f"{len(rows)} rows, {int(found.sum())} with a face; flipped {len(flipped)} train/val labels", flush=True)

    started = time.time()
    oof.main(["--data", str(args.data), "--manifest", str(flipped_csv), "--folds", str(args.folds),
              "--epochs", str(args.oof_epochs), *model_arguments(args, args.seed),
              "--cache-dir", str(args.cache_dir), "--run-dir", str(args.out / "oof"), "--out", str(oof_csv)])
    oof_minutes = (time.time() - started) / 60

    manifest = load_manifest(oof_csv, args.data)
    ranking = rank_manifest(manifest)
    top = 2 * len(flipped)
    methods = recall_by_method(manifest, flipped, top)

    latencies = review_like_an_oracle(manifest, ranking, truth, args.out / "reviews.sqlite", top)
    corrected = corrected_manifest(manifest, ReviewStore(args.out / "reviews.sqlite").current())
    corrected_csv = args.out / "corrected.csv"
    write_corrected(corrected, corrected_csv)
    still_wrong = sum(row["label"] != truth[row["path"]] for row in corrected.rows)

    started = time.time()
    trained = {name: {seed: train_and_test(name, path, args, seed) for seed in args.train_seeds}
               for name, path in (("clean", clean_csv), ("flipped", flipped_csv), ("corrected", corrected_csv))}
    mean_f1 = {name: round(statistics.mean(m["f1"] for m in by_seed.values()), 4)
               for name, by_seed in trained.items() if by_seed}
    summary = {
        "rows": len(rows), "with_face": int(found.sum()), "flipped": len(flipped), "reviewed_top": top,
        "recall_in_top": round(recall_at([s.path for s in ranking.suspects], flipped, top), 4),
        "method": "self_confidence", "recall_by_method": methods,
        "probabilities": ranking.probabilities, "corrected_counts": corrected.counts,
        "wrong_labels_left": still_wrong, "decide_ms_median": round(statistics.median(latencies), 2),
        "test": trained, "test_mean_f1": mean_f1,
        "minutes": {"oof": round(oof_minutes, 1), "trainings": round((time.time() - started) / 60, 1)},
        "command": "python bench/relabel.py " + " ".join(sys.argv[1:]),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    results.write(args.json, results.record("relabel", {key: value for key, value in summary.items()
                                                        if key != "command"}))
    print(f"\nflipped {len(flipped)} of {sum(r['split'] in ('train', 'val') and f for r, f in zip(rows, found))} "
          f"train/val labels; recall of flipped in the top {top} suspects ({summary['method']}): "
          f"{summary['recall_in_top']:.3f}")
    for name, recall in methods.items():
        print(f"  {name:<40} {recall:.3f}")
    print(f"oracle review of the top {top}: {corrected.counts.get('flipped', 0)} flipped back, "
          f"{still_wrong} wrong labels left; median {summary['decide_ms_median']} ms per decision")
    if args.train_seeds:
        print(f"\ntest F1 (ROC-AUC) on {next(iter(trained['clean'].values()))['n']} faces, clean test labels in all")
        print(f"{'manifest':<10} " + " ".join(f"{'seed ' + str(seed):<15}" for seed in args.train_seeds) + " mean F1")
        for name, by_seed in trained.items():
            print(f"{name:<10} " + " ".join(f"{m['f1']:.3f} ({m['roc_auc']:.3f})  " for m in by_seed.values())
                  + f" {mean_f1[name]:.3f}")
    print(f"\nminutes: out-of-fold {summary['minutes']['oof']}, trainings {summary['minutes']['trainings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
