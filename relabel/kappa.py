"""Cohen's kappa for two raters, in numpy: how far two reviewers agree beyond what chance would give them.

The app's runtime carries no scikit-learn, so this is the textbook formula (the same numbers as
sklearn.metrics.cohen_kappa_score without weights): kappa = (p_o - p_e) / (1 - p_e), where p_o is the share of
rows on which the two agree and p_e the share they would agree on by chance, each giving their categories at
the rates they did. 1 is full agreement, 0 no better than chance, below 0 worse.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def cohen_kappa(first: Sequence, second: Sequence) -> float:
    """Kappa of two raters' categories on the same rows (`first[i]` and `second[i]` rate row i). The
    categories may be any hashable values (0, 1, "no_face", ...). NaN where it is undefined: both raters gave
    every row one and the same category, so chance alone explains their agreement. Raises ValueError for no
    rows or lists of different lengths."""
    if len(first) != len(second):
        raise ValueError(f"the two raters rated different numbers of rows ({len(first)} and {len(second)})")
    if not len(first):
        raise ValueError("kappa needs at least one row both raters rated")
    categories = {category: i for i, category in enumerate(dict.fromkeys([*first, *second]))}
    table = np.zeros((len(categories), len(categories)))
    np.add.at(table, ([categories[c] for c in first], [categories[c] for c in second]), 1)
    rows = table.sum()
    observed = np.trace(table) / rows
    chance = float(table.sum(axis=1) @ table.sum(axis=0)) / rows ** 2
    if math.isclose(chance, 1.0):
        return math.nan
    return float((observed - chance) / (1 - chance))
