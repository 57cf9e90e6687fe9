"""Training plots, so a run can be judged at a glance: learning curves, ROC / precision-recall, confusion matrix,
reliability (how far P(glasses) is from the share of glasses it predicts)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: training runs headless
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.calibration import CalibrationDisplay  # noqa: E402

from training.calibration import BINS  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay  # noqa: E402

CLASS_NAMES = ("no_glasses", "glasses")
Curves = Mapping[str, tuple[np.ndarray, np.ndarray]]


def _save(fig, path: Path) -> Path:
    """Write and always close the figure: a long run draws many and pyplot keeps every open one alive."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path


def _plot_series(ax, history: list[dict], keys: list[str]) -> None:
    """One line per key over the epochs that recorded it, since older or partial runs may lack some keys."""
    for key in keys:
        points = [(row.get("epoch", i), row[key]) for i, row in enumerate(history) if row.get(key) is not None]
        ax.plot([epoch for epoch, _ in points], [value for _, value in points], marker="o", label=key)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if keys:
        ax.legend()


def plot_history(history: list[dict], path: Path) -> Path:
    """Losses and validation metrics per epoch, side by side: plots whatever keys the rows carry."""
    keys = [key for key in dict.fromkeys(k for row in history for k in row) if key != "epoch"]
    losses = [key for key in keys if key in ("loss", "val_loss")]
    metrics = [key for key in keys if key.startswith("val_") and key != "val_loss"]
    fig, (loss_ax, metric_ax) = plt.subplots(1, 2, figsize=(11, 4))
    _plot_series(loss_ax, history, losses)
    loss_ax.set_title("loss")
    _plot_series(metric_ax, history, metrics)
    metric_ax.set_title("validation metrics")
    return _save(fig, path)


def plot_roc_pr(curves: Curves, path: Path, title: str = "") -> Path:
    """ROC (AUC in the legend) and precision-recall (average precision) side by side, one line per entry of
    `curves` ({source: (labels, probs)}). A source with a single class has no curve and is left out.
    """
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 5))
    drawn = False
    for name, (source_labels, source_probs) in curves.items():
        source_labels, source_probs = np.asarray(source_labels).astype(int), np.asarray(source_probs)
        if len(np.unique(source_labels)) < 2:
            continue
        RocCurveDisplay.from_predictions(source_labels, source_probs, name=name, ax=roc_ax)
        PrecisionRecallDisplay.from_predictions(source_labels, source_probs, name=name, ax=pr_ax)
        drawn = True
    roc_ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", title="precision-recall")
    if not drawn:
        roc_ax.text(0.5, 0.5, "no source has both classes", ha="center")
    fig.suptitle(title)
    return _save(fig, path)


def plot_confusion(labels: np.ndarray, probs: np.ndarray, threshold: float, path: Path, title: str = "",
                   names: tuple[str, str] = CLASS_NAMES) -> Path:
    """Counts at the shipped threshold; both classes always shown, so a one-class split still gives 2x2."""
    predicted = (np.asarray(probs) >= threshold).astype(int)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ConfusionMatrixDisplay.from_predictions(np.asarray(labels).astype(int), predicted, labels=[0, 1],
                                            display_labels=list(names), values_format="d", colorbar=False,
                                            ax=ax)
    ax.set_title(f"{title} (threshold {threshold:g})".strip())
    return _save(fig, path)


def plot_reliability(labels: np.ndarray, probs: np.ndarray, path: Path, title: str = "", bins: int = BINS,
                     positive: str = "glasses") -> Path:
    """Share of glasses against mean P(glasses) in equal-width bins (on the diagonal: calibrated), above a
    histogram of the probabilities on a log scale (most faces sit near 0 or 1)."""
    fig, (curve_ax, count_ax) = plt.subplots(2, 1, figsize=(5.5, 7), height_ratios=(3, 1), sharex=True)
    CalibrationDisplay.from_predictions(np.asarray(labels).astype(int), np.clip(probs, 0, 1), n_bins=bins,
                                        strategy="uniform", name="model", ax=curve_ax)
    curve_ax.set(title=title, xlabel="", ylabel=f"share of faces with {positive.replace('_', ' ')}")
    count_ax.hist(np.clip(probs, 0, 1), bins=bins, range=(0, 1), color="grey", log=True)
    count_ax.set(xlabel=f"P({positive})", ylabel="faces")
    return _save(fig, path)


def write_plots(out_dir: Path, history: list[dict], curves: Curves, threshold: float,
                names: tuple[str, str] = CLASS_NAMES) -> list[Path]:
    """The plots of a run into `out_dir`: curves.png, roc_pr.png, confusion.png and reliability.png (of the
    "all" entry). `names`: the model's labels for 0 and 1."""
    out_dir = Path(out_dir)
    labels, probs = curves["all"]
    return [
        plot_history(history, out_dir / "curves.png"),
        plot_roc_pr(curves, out_dir / "roc_pr.png", "per source"),
        plot_confusion(labels, probs, threshold, out_dir / "confusion.png", "all sources", names),
        plot_reliability(labels, probs, out_dir / "reliability.png", "reliability, all sources", positive=names[1]),
    ]
