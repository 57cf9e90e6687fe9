"""Training plots on synthetic predictions: each PNG is written and readable, and awkward inputs do not crash."""
from __future__ import annotations

import numpy as np
from PIL import Image

from training.plots import plot_confusion, plot_history, plot_roc_pr, write_plots

HISTORY = [{"epoch": e, "loss": 0.5 / (e + 1), "val_loss": 0.4 / (e + 1), "val_auc": 0.9 + e / 100,
            "val_f1": 0.8 + e / 50, "seconds": 70.1} for e in range(3)]


def predictions(n: int, seed: int, positives: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Labels and noisy probabilities that overlap a little, so the curves are not trivial."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < positives).astype(int)
    return labels, 0.35 * labels + 0.65 * rng.random(n)


def assert_png(path) -> None:
    assert path.is_file()
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
    assert 200 <= width <= 3000 and 200 <= height <= 3000


def test_write_plots_writes_four_pngs_and_skips_a_one_class_source(tmp_path):
    curves = {"all": predictions(200, 0), "celeba_hq": predictions(120, 1),
              "yalefaces": (np.zeros(10, dtype=int), np.linspace(0, 1, 10))}  # one class: no curve
    paths = write_plots(tmp_path / "plots", HISTORY, curves, threshold=0.5)
    assert [p.name for p in paths] == ["curves.png", "roc_pr.png", "confusion.png", "reliability.png"]
    for path in paths:
        assert_png(path)


def test_history_with_only_loss(tmp_path):
    assert_png(plot_history([{"epoch": 0, "loss": 0.3}, {"epoch": 1, "loss": 0.2}], tmp_path / "curves.png"))


def test_roc_pr_single_arrays_and_only_one_class_sources(tmp_path):
    labels, probs = predictions(100, 2)
    assert_png(plot_roc_pr({"all": (labels, probs)}, tmp_path / "single.png", "one source"))
    only_one_class = {"all": (np.ones(5, dtype=int), np.full(5, 0.9))}
    assert_png(plot_roc_pr(only_one_class, tmp_path / "empty.png", "nothing to draw"))


def test_confusion_of_a_one_class_split(tmp_path):
    assert_png(plot_confusion(np.zeros(8, dtype=int), np.linspace(0, 1, 8), 0.5, tmp_path / "confusion.png"))
